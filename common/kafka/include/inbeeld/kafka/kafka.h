#pragma once
// Thin wrappers over librdkafka's C++ API: one place that knows librdkafka.
// No exceptions; every failure is an absl::Status. librdkafka callbacks never
// throw. librdkafka types stay out of this header.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace inbeeld::kafka {

struct Header {
  std::string key;
  std::string value;
  bool operator==(const Header&) const = default;
};
using Headers = std::vector<Header>;
// The first header named `key`, if any.
std::optional<std::string> FindHeader(const Headers& headers, std::string_view key);

inline constexpr int32_t kAnyPartition = -1;

struct OutRecord {
  std::string topic;
  int32_t partition = kAnyPartition;  // -1: partitioner decides by key
  std::string key;
  std::string value;
  Headers headers;
};

struct InRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  Headers headers;
  int64_t timestamp_ms = 0;
};

struct DeliveryReport {
  absl::Status status;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
};

// Statistics parsed from librdkafka's statistics JSON (statistics.interval.ms).
struct KafkaStats {
  int64_t producer_queue_messages = 0;  // msg_cnt
  // broker name → average round-trip time in seconds.
  std::map<std::string, double> broker_rtt_seconds;
  // (topic, partition) → consumer lag in messages (-1 unknown).
  std::map<std::pair<std::string, int32_t>, int64_t> consumer_lag;
};
using StatsCallback = std::function<void(const KafkaStats&)>;

struct ClientOptions {
  std::string bootstrap_servers;            // "host:port,..."
  std::string client_id = "inbeeld";
  // Extra librdkafka properties (security.protocol, sasl.*, ...), applied last.
  std::map<std::string, std::string> extra;
  // When set, statistics are emitted every stats_interval.
  StatsCallback on_stats;
  absl::Duration stats_interval = absl::Seconds(5);
};

// Producer with acks=all and enable.idempotence=true.
class Producer {
 public:
  virtual ~Producer() = default;
  static absl::StatusOr<std::unique_ptr<Producer>> Create(const ClientOptions& options);

  // Enqueues a record; `on_delivery` runs on the producer's poll thread once
  // the broker acknowledged (or the message failed or timed out). Returns an
  // error only when the record could not be enqueued.
  virtual absl::Status Produce(OutRecord record,
                               std::function<void(const DeliveryReport&)> on_delivery) = 0;
  // Produces and waits for the delivery report, at most `timeout`
  // (UNAVAILABLE / DEADLINE_EXCEEDED when Kafka did not acknowledge).
  virtual absl::StatusOr<DeliveryReport> ProduceSync(OutRecord record,
                                                     absl::Duration timeout) = 0;
  // Waits until every enqueued record was delivered or failed. Returns the
  // first delivery failure since the previous Flush, or DEADLINE_EXCEEDED.
  virtual absl::Status Flush(absl::Duration timeout) = 0;
  virtual int OutstandingMessages() const = 0;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct ConsumerOptions : ClientOptions {
  std::string group_id;
  std::vector<std::string> topics;
  // Called on assignment, before fetching: returns the offset to start each
  // partition at (the next offset to read), or nullopt for the earliest
  // retained offset. Services keep offsets in their state store, so this is
  // where they come from.
  std::function<std::optional<int64_t>(const TopicPartition&)> start_offset;
  // Called before partitions are taken away (flush and commit state here).
  std::function<void(const std::vector<TopicPartition>&)> on_revoke;
  // Called after partitions were assigned.
  std::function<void(const std::vector<TopicPartition>&)> on_assign;
  // Tests use 6000 ms: the mock's rebalance waits session.timeout.ms − 1 s.
  int session_timeout_ms = 6000;
};

// Group consumer with manual offsets: nothing is auto-committed; the service
// decides what has been processed (offsets live in its state store). Offsets
// are also committed to the group, after the state commit, for lag dashboards.
class Consumer {
 public:
  virtual ~Consumer() = default;
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const ConsumerOptions& options);

  // The next record, nullopt on timeout. Errors that are only informational
  // (partition EOF, transient broker errors) are logged and not returned.
  virtual absl::StatusOr<std::optional<InRecord>> Poll(absl::Duration timeout) = 0;
  // Commits "next offset to read" per partition to the group (best effort).
  virtual absl::Status CommitOffsets(const std::map<TopicPartition, int64_t>& next_offsets) = 0;
  virtual std::vector<TopicPartition> Assignment() const = 0;
  // Leaves the group (runs on_revoke). Idempotent.
  virtual void Close() = 0;
};

// Partition count of a topic (from metadata), for key → partition mapping.
absl::StatusOr<int32_t> PartitionCount(const ClientOptions& options, std::string_view topic,
                                       absl::Duration timeout);

// librdkafka's default partitioner for a key: murmur2_random (Java-compatible
// murmur2 of the key, positive, modulo the partition count).
int32_t PartitionForKey(std::string_view key, int32_t partition_count);

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
  int16_t replication_factor = 1;
  bool compacted = false;
};

// Creates the missing topics through the Admin API (Apache Kafka). Topics that already exist with the same
// partition count are fine (idempotent); one that exists with another count is FAILED_PRECONDITION and
// nothing is created. An unreachable cluster is UNAVAILABLE after `timeout`. replication_factor -1 = the
// broker's default.replication.factor. The embedded mock does not implement CreateTopics: use
// EmbeddedCluster::CreateTopics there.
absl::Status CreateTopics(const ClientOptions& options, const std::vector<TopicSpec>& topics,
                          absl::Duration timeout);

// The topics InBeeld needs, with `partitions` partitions each (the four event
// topics, signalen and the changelog share the count: co-partitioned). Each DLQ
// has its source's count: signaling writes a poison record to the same
// partition number of `<topic>.dlq`.
std::vector<TopicSpec> InBeeldTopics(int32_t partitions, int16_t replication_factor);

}  // namespace inbeeld::kafka

namespace inbeeld::kafka {

// Reads one topic-partition from `from_offset` up to its end as of the call,
// without a consumer group (changelog restore, delivery readers). `fn` sees
// every record in order; returns when the end is reached or on timeout.
absl::Status ReadPartitionToEnd(const ClientOptions& options, const TopicPartition& tp, int64_t from_offset,
                                const std::function<void(const InRecord&)>& fn, absl::Duration timeout);

}  // namespace inbeeld::kafka

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
// The same without a copy: a view into `headers`, valid while they are (the
// services' loops read a header of every record).
std::optional<std::string_view> FindHeaderView(const Headers& headers, std::string_view key);

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

// --exactly-once of the services that derive outputs from input (signaling, routing).
//   idempotent (default): outputs acknowledged before the state store commit; a crash in between repeats them
//     (same deterministic ids, deduplicated downstream). Works on any broker, the embedded mock included.
//   transactions: each batch's outputs in one Kafka transaction, committed before the store commit; a crash
//     before the transaction commit aborts them (invisible to read_committed readers). Apache Kafka only in
//     effect (the mock accepts transactions without their semantics).
enum class ExactlyOnce { kIdempotent, kTransactions };
// "idempotent" | "transactions"; anything else is INVALID_ARGUMENT naming both.
absl::StatusOr<ExactlyOnce> ParseExactlyOnce(std::string_view text);
// The transactional.id of one instance of `service`: "<service>-<instance>". Stable across restarts of the
// instance (so that the restarted producer fences its predecessor and aborts its open transaction) and
// distinct between instances (or they fence each other).
std::string TransactionalId(std::string_view service, std::string_view instance);
// The default instance identity: the host name and the absolute state directory (a StatefulSet pod keeps
// both across restarts; two instances on one host have two state directories), hashed to 16 hex digits.
std::string DefaultInstanceId(std::string_view state_dir);

// Transactions of a producer: off unless transactional_id is set.
struct TransactionOptions {
  std::string transactional_id;
  // init_transactions (fences the predecessor, aborts its open transaction) and each commit or abort.
  absl::Duration timeout = absl::Seconds(30);
};

// Producer with acks=all and enable.idempotence=true; transactional when TransactionOptions say so.
class Producer {
 public:
  virtual ~Producer() = default;
  static absl::StatusOr<std::unique_ptr<Producer>> Create(const ClientOptions& options,
                                                          const TransactionOptions& transactions = {});

  // Enqueues a record; `on_delivery` runs on the producer's poll thread once
  // the broker acknowledged (or the message failed or timed out). Returns an
  // error only when the record could not be enqueued. librdkafka copies the
  // record: the caller keeps it (a batch that may be produced again) without
  // a copy per call.
  virtual absl::Status Produce(const OutRecord& record,
                               std::function<void(const DeliveryReport&)> on_delivery) = 0;
  // Produces and waits for the delivery report, at most `timeout`
  // (UNAVAILABLE / DEADLINE_EXCEEDED when Kafka did not acknowledge).
  virtual absl::StatusOr<DeliveryReport> ProduceSync(OutRecord record,
                                                     absl::Duration timeout) = 0;
  // Waits until every enqueued record was delivered or failed. Returns the
  // first delivery failure since the previous Flush, or DEADLINE_EXCEEDED.
  virtual absl::Status Flush(absl::Duration timeout) = 0;
  virtual int OutstandingMessages() const = 0;
  // Tests: puts the producer in librdkafka's fatal state (what an idempotent producer's sequence
  // desynchronisation after a leader change does). The producer replaces itself on the next Produce.
  virtual absl::Status SimulateFatalError(std::string_view /*reason*/) {
    return absl::UnimplementedError("not a librdkafka producer");
  }

  // Transactions (a producer created with a transactional_id; librdkafka allows one open transaction per
  // producer). Every Produce happens between Begin and Commit/Abort. Commit waits for every record of the
  // transaction to be acknowledged and then commits it; an error means it was aborted or its outcome is
  // unknown (a fatal producer): the caller produces the batch again after Abort (ABORTED, UNAVAILABLE,
  // DEADLINE_EXCEEDED), or stops (FAILED_PRECONDITION: fenced by a newer instance with the same
  // transactional.id; this one must end).
  virtual bool Transactional() const { return false; }
  virtual absl::Status BeginTransaction() { return absl::FailedPreconditionError("producer is not transactional"); }
  virtual absl::Status CommitTransaction() { return absl::FailedPreconditionError("producer is not transactional"); }
  // Aborts the open transaction, if any (its records fail with ABORTED and are invisible to read_committed).
  virtual absl::Status AbortTransaction() { return absl::FailedPreconditionError("producer is not transactional"); }
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

// Merges into `next` the offset after the last of `records` per partition:
// where to resume once they are processed (an entry only ever grows). Records
// of a partition come in offset order and in runs, so only a run's last
// record is looked up (the key's copy and the tree walk once per run).
void AdvanceNextOffsets(const std::vector<InRecord>& records, std::map<TopicPartition, int64_t>& next);

// Records that are gone from a partition before this consumer read them
// (retention or deletion moved the log start past the consumer's position).
// Never skipped silently: the partition stops and stays stopped.
struct Gap {
  TopicPartition tp;
  int64_t next_offset = 0;  // where the consumer stood (the service's stored offset)
  int64_t log_start = 0;    // the earliest offset the broker still has
  int64_t log_end = 0;      // the high watermark
  // Records between the position and the log start that nobody processed;
  // 0 when the position is beyond the log end (topic recreated or truncated).
  int64_t lost() const { return next_offset < log_start ? log_start - next_offset : 0; }
};

// An operator's explicit decision (`--accept-loss=TOPIC:PARTITION:OFFSET`):
// a partition whose stored position is below `resume_at` starts at
// `resume_at`; the records in between are given up. Has no effect once the
// stored position has passed `resume_at`.
struct AcceptedLoss {
  TopicPartition tp;
  int64_t resume_at = 0;
};
// Parses "TOPIC:PARTITION:OFFSET[,TOPIC:PARTITION:OFFSET...]".
absl::StatusOr<std::vector<AcceptedLoss>> ParseAcceptedLosses(std::string_view text);

struct ConsumerOptions : ClientOptions {
  std::string group_id;
  std::vector<std::string> topics;
  // Called on assignment, before fetching: returns the offset to start each
  // partition at (the next offset to read), or nullopt for offset 0 (a store
  // that never processed the partition starts at its beginning; when that is
  // gone, it is a Gap, not a reason to start elsewhere). Services keep offsets in their state store, so this is
  // where they come from.
  std::function<std::optional<int64_t>(const TopicPartition&)> start_offset;
  // Called before partitions are taken away (flush and commit state here).
  std::function<void(const std::vector<TopicPartition>&)> on_revoke;
  // Called after partitions were assigned.
  std::function<void(const std::vector<TopicPartition>&)> on_assign;
  // Gaps the operator accepted; every other gap stops its partition.
  std::vector<AcceptedLoss> accepted_losses;
  // Called (on the polling thread) when a partition stopped at a gap, after
  // the ERROR log line and inbeeld_kafka_records_lost_total.
  std::function<void(const Gap&)> on_gap;
  // Tests use 6000 ms: the mock's rebalance waits session.timeout.ms − 1 s.
  int session_timeout_ms = 6000;
};

// A wait as librdkafka's timeout in milliseconds. absl::ToInt64Milliseconds
// truncates toward zero, so a deadline missed by 1.5 ms would become -1, which
// librdkafka reads as "wait forever" (a consumer loop then sat in consume()
// until the next record arrived, its consumed batch uncommitted). Here: a wait
// of zero or less is 0 (do not wait), InfiniteDuration is -1, others are
// capped at INT_MAX.
int TimeoutMs(absl::Duration wait);

// Group consumer with manual offsets: nothing is auto-committed; the service
// decides what has been processed (offsets live in its state store). Offsets
// are also committed to the group, after the state commit, for lag dashboards.
class Consumer {
 public:
  virtual ~Consumer() = default;
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const ConsumerOptions& options);

  // The next record, nullopt on timeout. Errors that are only informational
  // (partition EOF, transient broker errors) are logged and not returned.
  // A start offset (from the service's store, or 0 when it has none) below the
  // partition's log start, or an out-of-range fetch, is a Gap: the partition
  // stops (auto.offset.reset=error, never a silent reset), the other
  // partitions go on, and Gaps() reports it until the process restarts.
  virtual absl::StatusOr<std::optional<InRecord>> Poll(absl::Duration timeout) = 0;
  // Commits "next offset to read" per partition to the group (best effort).
  virtual absl::Status CommitOffsets(const std::map<TopicPartition, int64_t>& next_offsets) = 0;
  virtual std::vector<TopicPartition> Assignment() const = 0;
  // Partitions stopped at a gap (empty when nothing was lost).
  virtual std::vector<Gap> Gaps() const = 0;
  // The assigned partitions that hold records Poll has not returned yet, as
  // far as the last fetch response told (librdkafka's cached high watermark;
  // no request to the broker). A partition no fetch has answered yet counts
  // as behind; one stopped at a gap does not. On a topic written in
  // transactions the commit marker after the last record keeps a partition
  // behind (InBeeld's event topics have none: ingest does not use them).
  virtual std::vector<TopicPartition> Behind() const = 0;
  // Leaves the group (runs on_revoke). Idempotent.
  virtual void Close() = 0;
};

// Partition count of a topic (from metadata), for key → partition mapping.
absl::StatusOr<int32_t> PartitionCount(const ClientOptions& options, std::string_view topic,
                                       absl::Duration timeout);

// The end offset (high watermark) of every partition of a topic, in partition
// order: how many offsets were ever written to each (records, plus transaction
// markers on Apache Kafka), retention or not. For benchmarks and operators'
// tools that count what a topic received; not on the data path.
absl::StatusOr<std::vector<int64_t>> EndOffsets(const ClientOptions& options, std::string_view topic,
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
// `next_offset`, if given, gets the offset after the last record read (the
// start position when there was nothing to read).
absl::Status ReadPartitionToEnd(const ClientOptions& options, const TopicPartition& tp, int64_t from_offset,
                                const std::function<void(const InRecord&)>& fn, absl::Duration timeout,
                                int64_t* next_offset = nullptr);

}  // namespace inbeeld::kafka

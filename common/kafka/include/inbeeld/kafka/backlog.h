#pragma once
// Holdback for producers: the unconsumed backlog of each partition (high
// watermark minus the committed offset of the consumer group that must read
// it) against what the cluster retains. A producer that keeps writing while
// the backlog outgrows retention makes the broker delete records nobody read;
// ingest asks Admit() first and answers RESOURCE_EXHAUSTED (retry later, same
// id) instead. The embedded mock retains about 5 MiB or 100 000 batches per
// partition; Apache Kafka what retention.bytes says.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inbeeld/kafka/kafka.h"

namespace inbeeld::kafka {

// Per partition of librdkafka's mock cluster (hard-coded in 2.0.2, not configurable).
inline constexpr int64_t kMockRetainedBytes = 5 * 1024 * 1024;
inline constexpr int64_t kMockRetainedBatches = 100000;

struct BacklogOptions {
  ClientOptions kafka;
  // The group whose committed offsets say what was processed (signaling
  // commits after every batch).
  std::string group_id = "inbeeld-signaling";
  std::vector<std::string> topics;
  // Refuse new records for a partition whose backlog reaches either limit;
  // 0 switches that limit off (both 0: the monitor admits everything).
  int64_t max_backlog_bytes = 0;
  int64_t max_backlog_records = 0;
  // How often committed offsets and watermarks are fetched.
  absl::Duration refresh = absl::Milliseconds(250);
};

struct PartitionBacklog {
  int64_t end = 0;        // high watermark (or past the last record we produced)
  int64_t committed = 0;  // the group's next offset to process (0: nothing committed)
  int64_t records() const { return end > committed ? end - committed : 0; }
};

class BacklogMonitor {
 public:
  virtual ~BacklogMonitor() = default;
  // Starts the refresh thread; fails when the topics' metadata cannot be read.
  static absl::StatusOr<std::unique_ptr<BacklogMonitor>> Start(const BacklogOptions& options);

  // OK, or RESOURCE_EXHAUSTED naming the topic and partition when the record
  // for `key` would land in a partition whose backlog is at a limit.
  virtual absl::Status Admit(std::string_view topic, std::string_view key) const = 0;
  // After Kafka acknowledged a record: the backlog grows at once, not only
  // at the next refresh. `bytes` is key + value + headers (PayloadBytes).
  virtual void Produced(const DeliveryReport& report, size_t bytes) = 0;
  // How long a refused client should wait before retrying.
  virtual absl::Duration RetryAfter() const = 0;
  virtual std::map<TopicPartition, PartitionBacklog> Snapshot() const = 0;
};

// A record's key, value and headers, in bytes: what Produced counts.
size_t PayloadBytes(const OutRecord& record);

// Estimated bytes a record takes in a partition's log: its key, value and
// headers plus the record and (worst case, one record per batch) batch overhead.
int64_t EstimatedLogBytes(size_t payload_bytes);

}  // namespace inbeeld::kafka

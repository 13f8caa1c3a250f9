#pragma once
// The routing service's state: which signals were already routed (dedupe by
// signaal_id) and the next input offset per partition, in one RocksDB so
// both are committed in one atomic WriteBatch (TEAM.md: exactly-once effect).
// RocksDB types stay out of this header.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "inbeeld/kafka/kafka.h"

namespace inbeeld::routing {

class RoutingStore {
 public:
  // Opens (or creates) the database in `dir`.
  static absl::StatusOr<std::unique_ptr<RoutingStore>> Open(const std::string& dir);
  virtual ~RoutingStore() = default;

  virtual absl::StatusOr<bool> IsRouted(std::string_view signaal_id) const = 0;
  // The stored next offset to read, nullopt when the partition is new.
  virtual absl::StatusOr<std::optional<int64_t>> NextOffset(
      const kafka::TopicPartition& partition) const = 0;
  // Atomically records the routed signals and the next offsets (synced WAL).
  virtual absl::Status Commit(const std::vector<std::string>& routed_signaal_ids,
                              const std::map<kafka::TopicPartition, int64_t>& next_offsets) = 0;
};

}  // namespace inbeeld::routing

#pragma once
// The routing service's state: which signals were already routed (dedupe by
// signaal_id) and the next input offset per partition, in one RocksDB so
// both are committed in one atomic WriteBatch (TEAM.md: exactly-once effect).
// The routed ids are stored as a queue in routing order; IsRouted answers from
// an index of them in memory, read from the queue on Open. RocksDB types stay
// out of this header.
//
// The dedupe set is bounded (DedupeBound): an entry older than max_age, or the
// oldest entries beyond max_entries, are expired in the same WriteBatch as the
// routed ids and offsets of a commit, so a crash never leaves half of it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/util/clock.h"
#include "prometheus/registry.h"

namespace inbeeld::routing {

// How long and how many signaal_ids the dedupe store remembers. Repeats come
// from a routing batch replayed after a crash or a signaling restart (minutes
// to hours later); a repeat older than the bound is routed again and the
// subscriber's own dedupe by signaal_id catches it (signaal_service.proto).
struct DedupeBound {
  absl::Duration max_age = absl::Hours(24 * 30);
  int64_t max_entries = 2'000'000;  // ~100 bytes each on disk before compression
};

struct RoutingStoreOptions {
  DedupeBound bound;
  // Time of routing, for max_age. Null: the system clock.
  const util::Clock* clock = nullptr;
  // Gauge inbeeld_routing_dedupe_entries and counter
  // inbeeld_routing_dedupe_expired_total go here when set.
  prometheus::Registry* registry = nullptr;
};

class RoutingStore {
 public:
  // Opens (or creates) the database in `dir`.
  static absl::StatusOr<std::unique_ptr<RoutingStore>> Open(const std::string& dir,
                                                           RoutingStoreOptions options = {});
  virtual ~RoutingStore() = default;

  virtual absl::StatusOr<bool> IsRouted(std::string_view signaal_id) const = 0;
  // The stored next offset to read, nullopt when the partition is new.
  virtual absl::StatusOr<std::optional<int64_t>> NextOffset(
      const kafka::TopicPartition& partition) const = 0;
  // Atomically records the routed signals and the next offsets (synced WAL),
  // and expires what the DedupeBound no longer covers.
  virtual absl::Status Commit(const std::vector<std::string>& routed_signaal_ids,
                              const std::map<kafka::TopicPartition, int64_t>& next_offsets) = 0;
};

}  // namespace inbeeld::routing

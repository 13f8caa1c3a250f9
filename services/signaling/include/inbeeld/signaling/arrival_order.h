#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "absl/time/time.h"
#include "inbeeld/kafka/kafka.h"

namespace inbeeld::signaling {

// Hands the signaling loop its input in the order ingest accepted it across
// the event topics, as far as the consumer has read.
//
// A jongere's events travel on up to four topics (one per kind). Under a
// backlog the consumer reads those topics at different paces: a fetch brings
// about the same bytes per partition, so a partition of a small topic runs
// ahead in acceptance time of one of a large topic. Processed in that
// order, an uitschrijving could be judged before the vrijstelling or
// inschrijving that ingest had accepted right after it, and the jongere would
// get an absoluut-verzuim signal that InBeeld already held the answer to,
// followed by its resolution. Kafka Streams aligns co-partitioned input by
// record timestamp for the same reason (max.task.idle.ms).
//
// The rule: a record is released when every assigned partition that still has
// unread records (the consumer's `Behind`) has already delivered a record
// accepted later. Per partition the released records are a prefix in offset
// order, so the stored offsets (the next record after the released ones) stay
// exact. Nothing waits forever: once a record was held longer than
// `max_hold`, or more than `max_held` records are held, records go without
// regard to the partitions behind (a stopped or slow partition delays the
// others at most that long).
class ArrivalOrder {
 public:
  // At 500 ms a bulk load written straight to the topics still got most of
  // its provisional signals (docs/PERFORMANCE.md "Arrival order").
  struct Options {
    absl::Duration max_hold = absl::Seconds(5);
    size_t max_held = 200'000;
  };

  ArrivalOrder() : ArrivalOrder(Options{}) {}
  explicit ArrivalOrder(Options options) : options_(options) {}

  // A record as polled (per partition in offset order). `now`: when, for max_hold.
  void Add(kafka::InRecord record, absl::Time now);

  struct Released {
    // max_hold or max_held released records regardless of `behind` (a
    // partition behind did not deliver in time).
    bool forced = false;
    // Records added since the previous Release that stay held.
    size_t newly_held = 0;
  };
  // Appends to `out` what may be processed now, at most `max_records`: the
  // earliest accepted first, and not cut inside a millisecond, so that a batch
  // ends at a moment of acceptance (in `out` they stay in runs per partition,
  // in offset order). `behind`: the assigned partitions with records not yet
  // polled.
  Released Release(const std::vector<kafka::TopicPartition>& behind, absl::Time now, size_t max_records,
                   std::vector<kafka::InRecord>* out);

  // Whether Release would give at least `n` records now.
  bool CanRelease(const std::vector<kafka::TopicPartition>& behind, absl::Time now, size_t n) const;

  // Forgets the held records of these partition numbers (every event topic):
  // they were revoked, and their next owner reads them from the stored offsets.
  void Drop(const std::set<int32_t>& partitions);

  size_t held() const { return held_count_; }

 private:
  struct Held {
    kafka::InRecord record;
    absl::Time added;
  };

  // What Release may take now: records accepted before `frontier` (all when
  // `all`, a bound having passed).
  struct Limit {
    int64_t frontier;
    bool all;
  };
  Limit LimitFor(const std::vector<kafka::TopicPartition>& behind, absl::Time now) const;
  static bool Releasable(const Held& h, const Limit& limit) {
    return limit.all || h.record.timestamp_ms <= 0 || h.record.timestamp_ms < limit.frontier;
  }

  const Options options_;
  std::map<kafka::TopicPartition, std::deque<Held>> held_;
  size_t held_count_ = 0;
  absl::Time last_release_ = absl::InfinitePast();
  // The acceptance time of the newest record polled per partition.
  std::map<kafka::TopicPartition, int64_t> newest_ms_;
};

}  // namespace inbeeld::signaling

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
// minutes of acceptance time ahead of one of a large topic. Processed in that
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
// exact. Nothing waits forever: a record held longer than `max_hold`, or more
// than `max_held` records, releases everything held (a stopped or slow
// partition delays the others at most that long).
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

  // Appends to `out` what may be processed now. `behind`: the assigned
  // partitions with records not yet polled.
  void Release(const std::vector<kafka::TopicPartition>& behind, absl::Time now, std::vector<kafka::InRecord>* out);

  // Forgets the held records of these partition numbers (every event topic):
  // they were revoked, and their next owner reads them from the stored offsets.
  void Drop(const std::set<int32_t>& partitions);

  size_t held() const { return held_count_; }

 private:
  struct Held {
    kafka::InRecord record;
    absl::Time added;
  };

  const Options options_;
  std::map<kafka::TopicPartition, std::deque<Held>> held_;
  size_t held_count_ = 0;
  // The acceptance time of the newest record polled per partition.
  std::map<kafka::TopicPartition, int64_t> newest_ms_;
};

}  // namespace inbeeld::signaling

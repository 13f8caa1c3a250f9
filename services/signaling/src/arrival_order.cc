#include "inbeeld/signaling/arrival_order.h"

#include <algorithm>
#include <limits>

namespace inbeeld::signaling {

void ArrivalOrder::Add(kafka::InRecord record, absl::Time now) {
  const kafka::TopicPartition tp{record.topic, record.partition};
  int64_t& newest = newest_ms_[tp];
  newest = std::max(newest, record.timestamp_ms);
  held_[tp].push_back(Held{std::move(record), now});
  ++held_count_;
}

void ArrivalOrder::Release(const std::vector<kafka::TopicPartition>& behind, absl::Time now,
                           std::vector<kafka::InRecord>* out) {
  // Released: what was accepted before the newest record read from every
  // partition that is behind (before everything, for one that delivered
  // nothing yet). Strictly before: a partition that is behind may hold more
  // records of the same millisecond.
  int64_t frontier = std::numeric_limits<int64_t>::max();
  for (const kafka::TopicPartition& tp : behind) {
    const auto it = newest_ms_.find(tp);
    frontier = std::min(frontier, it == newest_ms_.end() ? std::numeric_limits<int64_t>::min() : it->second);
  }
  bool release_all = held_count_ > options_.max_held;
  for (const auto& [tp, records] : held_) {
    if (!records.empty() && now - records.front().added >= options_.max_hold) release_all = true;
  }
  for (auto it = held_.begin(); it != held_.end();) {
    std::deque<Held>& records = it->second;
    // A record without a timestamp (<= 0) is never held.
    while (!records.empty() &&
           (release_all || records.front().record.timestamp_ms <= 0 || records.front().record.timestamp_ms < frontier)) {
      out->push_back(std::move(records.front().record));
      records.pop_front();
      --held_count_;
    }
    it = records.empty() ? held_.erase(it) : std::next(it);
  }
}

void ArrivalOrder::Drop(const std::set<int32_t>& partitions) {
  for (auto it = held_.begin(); it != held_.end();) {
    if (partitions.contains(it->first.partition)) {
      held_count_ -= it->second.size();
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = newest_ms_.begin(); it != newest_ms_.end();) {
    it = partitions.contains(it->first.partition) ? newest_ms_.erase(it) : std::next(it);
  }
}

}  // namespace inbeeld::signaling

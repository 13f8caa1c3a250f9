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

ArrivalOrder::Limit ArrivalOrder::LimitFor(const std::vector<kafka::TopicPartition>& behind, absl::Time now) const {
  // Released: what was accepted before the newest record read from every
  // partition that is behind (before everything, for one that delivered
  // nothing yet). Strictly before: a partition that is behind may hold more
  // records of the same millisecond.
  Limit limit{std::numeric_limits<int64_t>::max(), held_count_ > options_.max_held};
  for (const kafka::TopicPartition& tp : behind) {
    const auto it = newest_ms_.find(tp);
    limit.frontier =
        std::min(limit.frontier, it == newest_ms_.end() ? std::numeric_limits<int64_t>::min() : it->second);
  }
  for (const auto& [tp, records] : held_) {
    if (!records.empty() && now - records.front().added >= options_.max_hold) limit.all = true;
  }
  return limit;
}

bool ArrivalOrder::CanRelease(const std::vector<kafka::TopicPartition>& behind, absl::Time now, size_t n) const {
  const Limit limit = LimitFor(behind, now);
  size_t count = 0;
  for (const auto& [tp, records] : held_) {
    for (const Held& h : records) {
      if (count >= n || !Releasable(h, limit)) break;
      ++count;
    }
  }
  return count >= n;
}

ArrivalOrder::Released ArrivalOrder::Release(const std::vector<kafka::TopicPartition>& behind, absl::Time now,
                                             size_t max_records, std::vector<kafka::InRecord>* out) {
  const Limit limit = LimitFor(behind, now);
  // A record without a timestamp (<= 0) is never held, and goes first.
  auto accepted = [](const Held& h) { return std::max<int64_t>(h.record.timestamp_ms, 0); };
  // How many of each partition's front records go: the earliest accepted of
  // all partitions' fronts, one at a time (a handful of partitions).
  struct Front {
    std::deque<Held>* records;
    size_t take = 0;
  };
  std::vector<Front> fronts;
  fronts.reserve(held_.size());
  for (auto& [tp, records] : held_) fronts.push_back({&records});
  auto earliest = [&]() -> Front* {
    Front* next = nullptr;
    for (Front& f : fronts) {
      if (f.take == f.records->size() || !Releasable((*f.records)[f.take], limit)) continue;
      if (next == nullptr || accepted((*f.records)[f.take]) < accepted((*next->records)[next->take])) next = &f;
    }
    return next;
  };
  std::vector<Front*> taken;  // in the order taken
  while (taken.size() < max_records) {
    Front* next = earliest();
    if (next == nullptr) break;
    ++next->take;
    taken.push_back(next);
  }
  // Cut by `max_records`: not inside a millisecond, where events of one
  // jongere on two topics may lie (unless that leaves nothing to take).
  if (Front* next = taken.empty() ? nullptr : earliest()) {
    const int64_t cut = accepted((*next->records)[next->take]);
    size_t keep = taken.size();
    while (keep > 0 && accepted((*taken[keep - 1]->records)[taken[keep - 1]->take - 1]) == cut) {
      --taken[keep - 1]->take;
      --keep;
    }
    if (keep == 0) {
      for (Front* f : taken) ++f->take;  // all of one millisecond: take them all the same
    }
  }
  for (Front& f : fronts) {
    for (size_t i = 0; i < f.take; ++i) {
      out->push_back(std::move(f.records->front().record));
      f.records->pop_front();
    }
    held_count_ -= f.take;
  }
  Released released{limit.all, 0};
  for (auto it = held_.begin(); it != held_.end();) {
    const std::deque<Held>& records = it->second;
    // The newest are at the back: count those added since the last Release.
    for (auto h = records.rbegin(); h != records.rend() && h->added > last_release_; ++h) ++released.newly_held;
    it = records.empty() ? held_.erase(it) : std::next(it);
  }
  last_release_ = now;
  return released;
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

#include "inbeeld/ingest/dedup_window.h"

namespace inbeeld::ingest {

DedupWindow::Claim DedupWindow::TryClaim(const std::string& key, const std::string& fingerprint,
                                         absl::Duration wait) {
  absl::MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + wait;
  while (true) {
    auto [it, inserted] = entries_.try_emplace(key, Entry{fingerprint, false});  // one lookup for both
    if (inserted) {
      order_.push_back(key);
      EvictLocked();
      return Claim::kNew;
    }
    if (it->second.done) {
      return it->second.fingerprint == fingerprint ? Claim::kDuplicate : Claim::kConflict;
    }
    // In flight: wait for the first request to finish (it may fail, then we
    // take over).
    struct WaitArg {
      DedupWindow* self;
      const std::string* key;
    } arg{this, &key};
    const absl::Condition finished(
        +[](WaitArg* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          auto e = a->self->entries_.find(*a->key);
          return e == a->self->entries_.end() || e->second.done;
        },
        &arg);
    if (!mu_.AwaitWithDeadline(finished, deadline)) {
      return Claim::kBusy;
    }
  }
}

void DedupWindow::Complete(const std::string& key, bool accepted) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (accepted) {
    it->second.done = true;
  } else {
    entries_.erase(it);  // its slot in order_ is skipped at eviction
  }
}

size_t DedupWindow::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void DedupWindow::EvictLocked() {
  while (order_.size() > capacity_) {
    const std::string oldest = std::move(order_.front());
    order_.pop_front();
    auto it = entries_.find(oldest);
    // Never forget a request still in flight.
    if (it != entries_.end() && it->second.done) entries_.erase(it);
  }
}

}  // namespace inbeeld::ingest

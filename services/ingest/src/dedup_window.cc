#include "inbeeld/ingest/dedup_window.h"

#include <algorithm>

namespace inbeeld::ingest {

DedupWindow::DedupWindow(size_t capacity) : slots_(std::max<size_t>(capacity, 1)) {
  index_.reserve(slots_.size());  // no rehash on the data path
}

DedupWindow::Claim DedupWindow::TryClaim(std::string_view key, std::string_view fingerprint,
                                         absl::Duration wait) {
  absl::MutexLock lock(&mu_);
  absl::Time deadline = absl::InfinitePast();  // the clock is read only to wait
  while (true) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      Slot* slot = NextSlotLocked();
      slot->key.assign(key);
      slot->fingerprint.assign(fingerprint);
      slot->state = State::kInFlight;
      index_.emplace(slot->key, slot);  // the view points into the slot, which stays put
      return Claim::kNew;
    }
    if (it->second->state == State::kDone) {
      return it->second->fingerprint == fingerprint ? Claim::kDuplicate : Claim::kConflict;
    }
    // In flight: wait for the first request to finish (it may fail, then we
    // take over).
    struct WaitArg {
      DedupWindow* self;
      std::string_view key;
    } arg{this, key};
    const absl::Condition finished(
        +[](WaitArg* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          auto e = a->self->index_.find(a->key);
          return e == a->self->index_.end() || e->second->state == State::kDone;
        },
        &arg);
    if (deadline == absl::InfinitePast()) deadline = absl::Now() + wait;
    if (!mu_.AwaitWithDeadline(finished, deadline)) {
      return Claim::kBusy;
    }
  }
}

void DedupWindow::Complete(std::string_view key, bool accepted) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return;
  Slot* slot = it->second;
  if (accepted) {
    slot->state = State::kDone;
  } else {
    index_.erase(it);  // before the slot's key changes: the index views it
    slot->state = State::kFree;
  }
}

size_t DedupWindow::size() const {
  absl::MutexLock lock(&mu_);
  return index_.size();
}

DedupWindow::Slot* DedupWindow::NextSlotLocked() {
  for (size_t tried = 0; tried < slots_.size(); ++tried) {
    Slot& slot = slots_[cursor_];
    cursor_ = (cursor_ + 1) % slots_.size();
    if (slot.state == State::kInFlight) continue;
    if (slot.state == State::kDone) index_.erase(std::string_view(slot.key));
    slot.state = State::kFree;
    return &slot;
  }
  return &slots_.emplace_back();  // every slot is in flight: one more
}

}  // namespace inbeeld::ingest

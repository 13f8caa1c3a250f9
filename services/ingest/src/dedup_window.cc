#include "inbeeld/ingest/dedup_window.h"

#include <algorithm>

#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/util/hex.h"

namespace inbeeld::ingest {
namespace {

uint64_t BigEndian(const unsigned char* b) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | b[i];
  return v;
}

}  // namespace

DedupWindow::Digest DedupWindow::DigestOf(std::string_view s) {
  if (const auto bits = util::LowerHex128(s)) return Digest{bits->first, bits->second};
  const identity::Sha256Digest sha = identity::Sha256(s);
  return Digest{BigEndian(sha.data()), BigEndian(sha.data() + 8)};
}

DedupWindow::DedupWindow(size_t capacity) : slots_(std::max<size_t>(capacity, 1)) {
  index_.reserve(slots_.size());  // no rehash on the data path
}

DedupWindow::Claim DedupWindow::TryClaim(std::string_view key, std::string_view fingerprint, absl::Duration wait,
                                         Ticket* ticket) {
  return TryClaim(DigestOf(key), DigestOf(fingerprint), wait, ticket);
}

DedupWindow::Claim DedupWindow::TryClaim(const Digest& key, const Digest& fingerprint, absl::Duration wait,
                                         Ticket* ticket) {
  absl::MutexLock lock(&mu_);
  absl::Time deadline = absl::InfinitePast();  // the clock is read only to wait
  while (true) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      const size_t n = NextSlotLocked();
      Slot& slot = slots_[n];
      slot.key = key;
      slot.fingerprint = fingerprint;
      slot.state = State::kInFlight;
      index_.emplace(key, n);
      *ticket = Ticket{n, key};
      return Claim::kNew;
    }
    const Slot& slot = slots_[it->second];
    if (slot.state == State::kDone) {
      return slot.fingerprint == fingerprint ? Claim::kDuplicate : Claim::kConflict;
    }
    // In flight: wait for the first request to finish (it may fail, then we
    // take over).
    struct WaitArg {
      DedupWindow* self;
      Digest key;
    } arg{this, key};
    const absl::Condition finished(
        +[](WaitArg* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          auto e = a->self->index_.find(a->key);
          return e == a->self->index_.end() || a->self->slots_[e->second].state == State::kDone;
        },
        &arg);
    if (deadline == absl::InfinitePast()) deadline = absl::Now() + wait;
    if (!mu_.AwaitWithDeadline(finished, deadline)) {
      return Claim::kBusy;
    }
  }
}

void DedupWindow::Complete(const Ticket& ticket, bool accepted) {
  absl::MutexLock lock(&mu_);
  if (ticket.slot >= slots_.size()) return;
  Slot& slot = slots_[ticket.slot];
  if (slot.state != State::kInFlight || !(slot.key == ticket.key)) return;
  if (accepted) {
    slot.state = State::kDone;
  } else {
    index_.erase(slot.key);
    slot.state = State::kFree;
  }
}

size_t DedupWindow::size() const {
  absl::MutexLock lock(&mu_);
  return index_.size();
}

size_t DedupWindow::NextSlotLocked() {
  for (size_t tried = 0; tried < slots_.size(); ++tried) {
    const size_t n = cursor_;
    Slot& slot = slots_[n];
    cursor_ = (cursor_ + 1) % slots_.size();
    if (slot.state == State::kInFlight) continue;
    if (slot.state == State::kDone) index_.erase(slot.key);
    slot.state = State::kFree;
    return n;
  }
  slots_.emplace_back();  // every slot is in flight: one more
  return slots_.size() - 1;
}

}  // namespace inbeeld::ingest

#pragma once
// A bounded memory of recently accepted events by (kind, bron, id), so that a
// client retry gets the first answer and nothing is produced twice. Bounded:
// the oldest entries are forgotten first; signaling dedupes for good.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace inbeeld::ingest {

// Every event of a batch passes here twice (claim, complete) under one mutex,
// so the window allocates nothing once it has gone round: `capacity` slots
// made up front hold the keys and fingerprints (their strings reuse their
// buffers), and the index maps a key to its slot by a view into the slot
// (slots never move: a deque that only grows at the back).
class DedupWindow {
 public:
  // Remembers the last `capacity` keys (at least 1), and more while more
  // than that are in flight at once.
  explicit DedupWindow(size_t capacity);

  enum class Claim {
    kNew,        // the caller owns the key now and must call Complete()
    kDuplicate,  // accepted before with the same content
    kConflict,   // accepted before with different content
    kBusy,       // another request with this key did not finish in time
  };

  // Claims `key` for a request with the given content fingerprint. When the
  // same key is in flight, waits up to `wait` for it to finish.
  Claim TryClaim(std::string_view key, std::string_view fingerprint, absl::Duration wait);
  // Completes a claim: on success the key is remembered, on failure released
  // so that a retry is processed anew.
  void Complete(std::string_view key, bool accepted);
  size_t size() const;

 private:
  enum class State : uint8_t { kFree, kInFlight, kDone };
  struct Slot {
    std::string key;
    std::string fingerprint;
    State state = State::kFree;
  };
  // The slot for a new key: the next one in insertion order, forgetting what
  // it held when that is done; a request still in flight is never forgotten
  // (its slot is passed over and comes round again). A new slot when every
  // one is in flight.
  Slot* NextSlotLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::deque<Slot> slots_ ABSL_GUARDED_BY(mu_);
  size_t cursor_ ABSL_GUARDED_BY(mu_) = 0;  // the oldest slot: the next to reuse
  absl::flat_hash_map<std::string_view, Slot*> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inbeeld::ingest

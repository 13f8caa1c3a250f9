#pragma once
// A bounded memory of recently accepted events by (kind, bron, id), so that a
// client retry gets the first answer and nothing is produced twice. Bounded:
// the oldest entries are forgotten first; signaling dedupes for good.
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace inbeeld::ingest {

// Every event of a batch passes here twice (claim, complete) under one mutex,
// on a machine whose caches the other services share. So the window touches
// as little memory per event as it can: keys and fingerprints are 128-bit
// values kept inline (no string to follow from the index or a slot),
// `capacity` slots are made up front and reused in turn, and a claim is
// completed through the slot it was given, without a lookup.
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

  // 128 bits that stand for a key or a fingerprint. A string of 32 lowercase hex
  // digits (a ce_id: itself the first 128 bits of a SHA-256) is read as the 16 bytes
  // it spells; any other string stands for the first 128 bits of its SHA-256.
  // Two strings share a digest only when SHA-256 collides.
  struct Digest {
    uint64_t hi = 0;
    uint64_t lo = 0;
    friend bool operator==(const Digest&, const Digest&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Digest& d) {
      return H::combine(std::move(h), d.hi, d.lo);
    }
  };
  static Digest DigestOf(std::string_view s);

  // What a new claim completes through: its slot (and its key, to check).
  struct Ticket {
    size_t slot = SIZE_MAX;
    Digest key;
  };

  // Claims `key` for a request with the given content fingerprint. When the
  // same key is in flight, waits up to `wait` for it to finish. On kNew,
  // `*ticket` is what Complete() takes.
  Claim TryClaim(std::string_view key, std::string_view fingerprint, absl::Duration wait, Ticket* ticket);
  Claim TryClaim(const Digest& key, const Digest& fingerprint, absl::Duration wait, Ticket* ticket);
  // Completes a claim: on success the key is remembered, on failure released
  // so that a retry is processed anew. Once per ticket; a ticket whose claim
  // is no longer in flight (or a default one) changes nothing.
  void Complete(const Ticket& ticket, bool accepted);
  size_t size() const;

 private:
  enum class State : uint8_t { kFree, kInFlight, kDone };
  struct Slot {
    Digest key;
    Digest fingerprint;
    State state = State::kFree;
  };
  // The slot for a new key: the next one in insertion order, forgetting what
  // it held when that is done; a request still in flight is never forgotten
  // (its slot is passed over and comes round again). A new slot when every
  // one is in flight.
  size_t NextSlotLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::deque<Slot> slots_ ABSL_GUARDED_BY(mu_);
  size_t cursor_ ABSL_GUARDED_BY(mu_) = 0;  // the oldest slot: the next to reuse
  absl::flat_hash_map<Digest, size_t> index_ ABSL_GUARDED_BY(mu_);  // key → slot
};

}  // namespace inbeeld::ingest

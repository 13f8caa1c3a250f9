#pragma once
// A bounded memory of recently accepted events by (kind, bron, id), so that a
// client retry gets the first answer and nothing is produced twice. Bounded:
// the oldest entries are forgotten first; signaling dedupes for good.
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace inbeeld::ingest {

class DedupWindow {
 public:
  explicit DedupWindow(size_t capacity) : capacity_(capacity) {}

  enum class Claim {
    kNew,        // the caller owns the key now and must call Complete()
    kDuplicate,  // accepted before with the same content
    kConflict,   // accepted before with different content
    kBusy,       // another request with this key did not finish in time
  };

  // Claims `key` for a request with the given content fingerprint. When the
  // same key is in flight, waits up to `wait` for it to finish.
  Claim TryClaim(const std::string& key, const std::string& fingerprint, absl::Duration wait);
  // Completes a claim: on success the key is remembered, on failure released
  // so that a retry is processed anew.
  void Complete(const std::string& key, bool accepted);
  size_t size() const;

 private:
  struct Entry {
    std::string fingerprint;
    bool done = false;
  };
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inbeeld::ingest

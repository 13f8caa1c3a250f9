#pragma once
// When a service loop that Kafka stopped is resumed in the same process.
//
// Signaling commits a batch only after Kafka acknowledged its outputs, with the input offsets in its own store. A
// batch whose outputs Kafka did not acknowledge (a broker lost, a record purged from a producer that librdkafka
// declared fatal and that was replaced, a flush past its deadline) stops its loop with nothing of that batch
// committed. Resuming from the stored offsets is what a restart of the process would do, without the restart. A
// failure that keeps coming back still ends the process, so that its supervisor sees it. (Routing produces the
// batches in flight again inside its loop instead.)
#include <deque>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace inbeeld::kafka {

// True for the failures a resume from the stored offsets remedies: UNAVAILABLE (no broker, no leader, a record
// not acknowledged in time), ABORTED (a record of a producer that failed fatally and was replaced: produce it
// again) and DEADLINE_EXCEEDED (a flush past its deadline). Anything else (a bad record, a full disk, a refused
// configuration) would fail the same way again.
bool ResumableFailure(const absl::Status& status);

// At most `max_resumes` resumes within any `window`: the next failure within it ends the process.
class ResumeBudget {
 public:
  explicit ResumeBudget(int max_resumes = 4, absl::Duration window = absl::Minutes(10))
      : max_resumes_(max_resumes), window_(window) {}

  // Counts a resume at `now` and returns true, or returns false when `max_resumes` were already counted within
  // the window before `now`.
  bool Take(absl::Time now);

  // The resumes counted within the window before `now`.
  int Recent(absl::Time now);

 private:
  void Forget(absl::Time now);

  const int max_resumes_;
  const absl::Duration window_;
  std::deque<absl::Time> resumes_;
};

}  // namespace inbeeld::kafka

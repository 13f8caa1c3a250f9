#include "inbeeld/kafka/resume.h"

namespace inbeeld::kafka {

bool ResumableFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDeadlineExceeded:
      return true;
    default:
      return false;
  }
}

void ResumeBudget::Forget(absl::Time now) {
  while (!resumes_.empty() && now - resumes_.front() >= window_) resumes_.pop_front();
}

bool ResumeBudget::Take(absl::Time now) {
  Forget(now);
  if (static_cast<int>(resumes_.size()) >= max_resumes_) return false;
  resumes_.push_back(now);
  return true;
}

int ResumeBudget::Recent(absl::Time now) {
  Forget(now);
  return static_cast<int>(resumes_.size());
}

}  // namespace inbeeld::kafka

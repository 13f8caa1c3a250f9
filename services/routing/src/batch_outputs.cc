#include "inbeeld/routing/batch_outputs.h"

#include "absl/time/clock.h"

namespace inbeeld::routing {

std::unique_ptr<BatchOutputs> BatchOutputs::Send(kafka::Producer& producer,
                                                 const std::vector<kafka::OutRecord>& records,
                                                 absl::Time deadline) {
  auto count = std::make_shared<Count>();
  {
    absl::MutexLock lock(&count->mu);
    count->outstanding = records.size();
  }
  auto on_delivery = [count](const kafka::DeliveryReport& report) {
    absl::MutexLock lock(&count->mu);
    if (!report.status.ok() && count->first_error.ok()) count->first_error = report.status;
    --count->outstanding;
  };
  for (size_t i = 0; i < records.size(); ++i) {
    absl::Status s;
    while (true) {
      s = producer.Produce(records[i], on_delivery);
      // UNAVAILABLE: the local queue is full; the producer's thread empties
      // it as acknowledgements come. ABORTED: the producer replaced itself
      // after a fatal error; the record is to be produced again.
      const bool retry = s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kAborted;
      if (s.ok() || !retry || absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(1));
    }
    if (!s.ok()) {
      // This record and the ones after it will not be reported.
      absl::MutexLock lock(&count->mu);
      if (count->first_error.ok()) count->first_error = s;
      count->outstanding -= records.size() - i;
      break;
    }
  }
  return std::unique_ptr<BatchOutputs>(new BatchOutputs(std::move(count), deadline));
}

std::unique_ptr<BatchOutputs> BatchOutputs::AlreadyAcknowledged() {
  return std::unique_ptr<BatchOutputs>(new BatchOutputs(std::make_shared<Count>(), absl::InfiniteFuture()));
}

absl::StatusOr<bool> BatchOutputs::Acknowledged() const {
  absl::MutexLock lock(&count_->mu);
  if (!count_->first_error.ok()) return count_->first_error;
  if (count_->outstanding == 0) return true;
  if (absl::Now() >= deadline_) {
    return absl::DeadlineExceededError("kafka did not acknowledge the batch's outputs in time");
  }
  return false;
}

void BatchOutputs::AwaitAcknowledged() const {
  Count& c = *count_;
  c.mu.LockWhenWithDeadline(
      absl::Condition(
          +[](Count* x) ABSL_NO_THREAD_SAFETY_ANALYSIS { return x->outstanding == 0 || !x->first_error.ok(); }, &c),
      deadline_);
  c.mu.Unlock();
}

}  // namespace inbeeld::routing

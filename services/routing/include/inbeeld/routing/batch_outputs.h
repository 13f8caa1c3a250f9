#pragma once
// One routing batch's outputs on their way to Kafka: the only place where
// routing produces records and learns that Kafka acknowledged them.
//
// Send() enqueues every record without waiting; each delivery report is
// counted here, so a batch knows when its own outputs are acknowledged (a
// producer Flush would also wait for every later batch in flight). The
// routing loop commits a batch's dedupe entries and offsets only after
// Acknowledged() is true for it.
//
// With Kafka transactions a batch's outputs become one transaction, produced
// and committed before the batch joins the ones in flight: its BatchOutputs
// is AlreadyAcknowledged().
#include <cstddef>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/kafka/kafka.h"

namespace inbeeld::routing {

class BatchOutputs {
 public:
  // Enqueues `records` on `producer`. While the producer's local queue is
  // full it waits for room, at most until `deadline`. Never fails itself: a
  // record that cannot be enqueued, a delivery failure, or the deadline
  // passing before every acknowledgement is reported by Acknowledged().
  static std::unique_ptr<BatchOutputs> Send(kafka::Producer& producer,
                                            const std::vector<kafka::OutRecord>& records,
                                            absl::Time deadline);

  // Outputs acknowledged before they were handed here (a committed Kafka
  // transaction).
  static std::unique_ptr<BatchOutputs> AlreadyAcknowledged();

  // True once every record was acknowledged, false while some are in
  // flight; the first failure (or DEADLINE_EXCEEDED past the deadline).
  absl::StatusOr<bool> Acknowledged() const;
  // Blocks until Acknowledged() is no longer false: every acknowledgement,
  // a failure, or the deadline.
  void AwaitAcknowledged() const;

 private:
  // Shared with the delivery callbacks, which may run after this object is
  // gone (a batch sent again after a failure).
  struct Count {
    absl::Mutex mu;
    size_t outstanding ABSL_GUARDED_BY(mu) = 0;
    absl::Status first_error ABSL_GUARDED_BY(mu);
  };

  BatchOutputs(std::shared_ptr<Count> count, absl::Time deadline)
      : count_(std::move(count)), deadline_(deadline) {}

  std::shared_ptr<Count> count_;
  absl::Time deadline_;
};

}  // namespace inbeeld::routing

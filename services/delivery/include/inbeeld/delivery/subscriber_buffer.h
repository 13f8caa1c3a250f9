#pragma once
// The bounded hand-over between a subscription's Kafka reader thread and the
// gRPC handler that writes to the client. Bounded so that a slow subscriber
// costs at most `capacity` messages of memory: when the reader finds it full,
// and stays full (the client takes nothing for a while), the subscriber is
// cut off (RESOURCE_EXHAUSTED) and resumes later from its last cursor,
// instead of the server buffering without limit.
#include <cstddef>
#include <deque>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/v1/signaal_service.pb.h"

namespace inbeeld::delivery {

// One message on its way to a subscriber, with what the metrics need.
struct Aflevering {
  v1::SignaalBericht bericht;
  // When Kafka stored the record (lag).
  absl::Time record_time = absl::InfinitePast();
  // inbeeld_ingest_time of the earliest event behind the signal (end-to-end
  // latency), when the record carried it.
  std::optional<absl::Time> ingest_time;
};

class SubscriberBuffer {
 public:
  explicit SubscriberBuffer(size_t capacity);
  SubscriberBuffer(const SubscriberBuffer&) = delete;
  SubscriberBuffer& operator=(const SubscriberBuffer&) = delete;

  // Appends a message, waiting up to `wait_for_room` while the buffer is
  // full (a subscriber replaying a backlog is slower than Kafka, and that is
  // fine as long as it keeps taking messages). When it is still full after
  // that, the subscriber is cut off: the pending messages are dropped (the
  // client resumes from the last cursor it received), the buffer closes with
  // RESOURCE_EXHAUSTED and Push returns false. Also false once closed.
  bool Push(Aflevering aflevering, absl::Duration wait_for_room = absl::ZeroDuration());

  // Never waits and never cuts off: the shared reader (FanOut) must not stall
  // on one subscriber. kFull leaves `aflevering` untouched; the subscriber
  // then continues on its own reader, where Push's cut-off rule applies.
  enum class TryPushResult { kPushed, kFull, kClosed };
  TryPushResult TryPush(Aflevering& aflevering);

  // Ends the stream with `status` (non-OK). With `discard_pending` the
  // messages not yet taken are dropped, otherwise Pop hands them out first.
  // The first close wins.
  void Close(absl::Status status, bool discard_pending);

  // The next message; nullopt when none arrived within `timeout`; the close
  // status once closed and drained.
  absl::StatusOr<std::optional<Aflevering>> Pop(absl::Duration timeout);

  bool closed() const;
  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<Aflevering> queue_ ABSL_GUARDED_BY(mu_);
  absl::Status closed_ ABSL_GUARDED_BY(mu_);  // OK while open
};

}  // namespace inbeeld::delivery

#include "inbeeld/delivery/subscriber_buffer.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace inbeeld::delivery {

SubscriberBuffer::SubscriberBuffer(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

bool SubscriberBuffer::Push(Aflevering aflevering, absl::Duration wait_for_room) {
  absl::MutexLock lock(&mu_);
  auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return queue_.size() < capacity_ || !closed_.ok();
  };
  mu_.AwaitWithTimeout(absl::Condition(&room), wait_for_room);
  if (!closed_.ok()) return false;
  if (queue_.size() >= capacity_) {
    queue_.clear();
    closed_ = absl::ResourceExhaustedError(absl::StrCat(
        "subscriber too slow: ", capacity_, " signals waited longer than ",
        absl::FormatDuration(wait_for_room),
        "; reconnect with the last cursor received to resume"));
    return false;
  }
  queue_.push_back(std::move(aflevering));
  return true;
}

SubscriberBuffer::TryPushResult SubscriberBuffer::TryPush(Aflevering& aflevering) {
  absl::MutexLock lock(&mu_);
  if (!closed_.ok()) return TryPushResult::kClosed;
  if (queue_.size() >= capacity_) return TryPushResult::kFull;
  queue_.push_back(std::move(aflevering));
  return TryPushResult::kPushed;
}

void SubscriberBuffer::Close(absl::Status status, bool discard_pending) {
  if (status.ok()) status = absl::CancelledError("subscription closed");
  absl::MutexLock lock(&mu_);
  if (!closed_.ok()) return;
  closed_ = std::move(status);
  if (discard_pending) queue_.clear();
}

absl::StatusOr<std::optional<Aflevering>> SubscriberBuffer::Pop(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || !closed_.ok();
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (!queue_.empty()) {
    Aflevering next = std::move(queue_.front());
    queue_.pop_front();
    return std::optional<Aflevering>(std::move(next));
  }
  if (!closed_.ok()) return closed_;
  return std::optional<Aflevering>();
}

bool SubscriberBuffer::closed() const {
  absl::MutexLock lock(&mu_);
  return !closed_.ok();
}

size_t SubscriberBuffer::size() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace inbeeld::delivery

#include "inbeeld/delivery/fan_out.h"

#include <pthread.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "inbeeld/delivery/aflevering_record.h"
#include "inbeeld/util/log.h"

namespace inbeeld::delivery {
namespace {

std::vector<int64_t> Offsets(const Cursor& cursor) {
  std::vector<int64_t> offsets;
  for (const auto& [partition, offset] : cursor.next_offsets) {
    if (partition < 0) continue;
    if (static_cast<size_t>(partition) >= offsets.size()) offsets.resize(partition + 1, 0);
    offsets[partition] = offset;
  }
  return offsets;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FanOut>> FanOut::Open(const ReaderSource& source, Options options) {
  absl::StatusOr<Cursor> end = source.end();
  if (!end.ok()) return end.status();
  if (end->next_offsets.empty()) return absl::UnavailableError("aflevering topic has no partitions");
  absl::StatusOr<std::unique_ptr<AfleveringReader>> reader =
      source.open(*end, options.repeat_window);
  if (!reader.ok()) return reader.status();
  std::unique_ptr<FanOut> fan_out(new FanOut(*std::move(reader), *std::move(end), options));
  fan_out->thread_ = std::thread([f = fan_out.get()] {
    pthread_setname_np(pthread_self(), "fan-out");
    f->Run();
  });
  return fan_out;
}

FanOut::FanOut(std::unique_ptr<AfleveringReader> reader, Cursor end, Options options)
    : options_(options),
      reader_(std::move(reader)),
      start_end_(Offsets(end)),
      repeats_(options.repeat_window) {
  absl::MutexLock lock(&mu_);
  // The reader starts up to repeat_window before the end (Open's lookback);
  // the exact start does not matter: nothing before start_end_ is delivered.
  position_.assign(start_end_.size(), 0);
  for (size_t p = 0; p < start_end_.size(); ++p) {
    position_[p] = std::max<int64_t>(0, start_end_[p] - options.repeat_window);
  }
}

FanOut::~FanOut() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

int64_t FanOut::StandsAt(int32_t partition) const {
  return std::max(position_[partition], start_end_[partition]);
}

bool FanOut::Attach(Subscriber* subscriber, const Cursor& position, bool read_up_to_position) {
  std::vector<int64_t> next = Offsets(position);
  absl::MutexLock lock(&mu_);
  if (!status_.ok() || stop_.load()) return false;
  // A cursor naming a partition the tail does not read (the topic grew):
  // stay on the own reader.
  if (next.size() > position_.size()) return false;
  next.resize(position_.size(), 0);
  for (size_t p = 0; p < next.size(); ++p) {
    const int64_t stands = StandsAt(static_cast<int32_t>(p));
    if (read_up_to_position ? next[p] < stands : next[p] != stands) return false;
  }
  attached_.emplace(subscriber->organisatie(), Attached{subscriber, std::move(next)});
  return true;
}

void FanOut::Detach(Subscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  auto [begin, end] = attached_.equal_range(subscriber->organisatie());
  for (auto it = begin; it != end;) {
    it = it->second.subscriber == subscriber ? attached_.erase(it) : std::next(it);
  }
}

absl::Status FanOut::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

int FanOut::attached() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(attached_.size());
}

void FanOut::Fail(absl::Status status) {
  util::LogWarn("shared aflevering reader failed; its subscribers resume from their cursor",
                {{"error", std::string(status.message())}});
  absl::MutexLock lock(&mu_);
  status_ = status;
  for (auto& [organisatie, attached] : attached_) {
    attached.subscriber->buffer().Close(
        absl::UnavailableError(absl::StrCat("signal reader failed (", status.message(),
                                            "); reconnect with the last cursor received to resume")),
        /*discard_pending=*/false);
  }
  attached_.clear();
}

void FanOut::Run() {
  while (!stop_.load()) {
    absl::StatusOr<std::optional<kafka::InRecord>> polled = reader_->Poll(options_.poll_timeout);
    if (!polled.ok()) {
      Fail(polled.status());
      return;
    }
    if (!polled->has_value()) {
      caught_up_.store(true);
      continue;
    }
    caught_up_.store(false);
    const kafka::InRecord& record = **polled;
    if (record.partition < 0 || static_cast<size_t>(record.partition) >= start_end_.size()) {
      // The topic grew after the tail opened: its subscribers' cursors name
      // the new partition and they stay on their own readers.
      continue;
    }
    // Decoded even when nobody of the organisation listens: the repeat window
    // must see every record of the partition.
    std::optional<v1::Signaal> signaal = DecodeAfleveringRecord(record);
    const bool repeat = signaal.has_value() &&
                        repeats_.ObserveIsRepeat(record.partition, record.offset, record.key,
                                                 signaal->signaal_id());
    absl::MutexLock lock(&mu_);
    if (signaal.has_value()) Dispatch(record, *signaal, repeat);
    position_[record.partition] = std::max(position_[record.partition], record.offset + 1);
  }
}

void FanOut::Dispatch(const kafka::InRecord& record, const v1::Signaal& signaal, bool repeat) {
  const int32_t p = record.partition;
  const int64_t o = record.offset;
  auto [begin, end] = attached_.equal_range(record.key);
  if (begin == end) return;
  std::optional<Aflevering> template_aflevering;
  for (auto it = begin; it != end;) {
    Attached& attached = it->second;
    if (o < attached.next[p]) {  // before its position (it caught up past the tail)
      ++it;
      continue;
    }
    if (repeat) {
      if (options_.repeats_dropped != nullptr) options_.repeats_dropped->Increment();
      attached.next[p] = o + 1;
      ++it;
      continue;
    }
    if (!template_aflevering.has_value()) template_aflevering = MakeAflevering(signaal, record);
    // Everything the tail read before this record that concerns the
    // subscriber has been handed to it: the position after the record.
    Cursor after;
    for (size_t q = 0; q < position_.size(); ++q) {
      after.next_offsets[static_cast<int32_t>(q)] = std::max(attached.next[q], position_[q]);
    }
    after.next_offsets[p] = o + 1;
    Aflevering aflevering = *template_aflevering;
    aflevering.bericht.set_cursor(EncodeCursor(after));
    switch (attached.subscriber->buffer().TryPush(aflevering)) {
      case SubscriberBuffer::TryPushResult::kPushed:
        attached.next[p] = o + 1;
        ++it;
        break;
      case SubscriberBuffer::TryPushResult::kFull: {
        Cursor before = std::move(after);
        before.next_offsets[p] = o;
        Subscriber* subscriber = attached.subscriber;
        it = attached_.erase(it);
        subscriber->FellBehind(std::move(before));
        break;
      }
      case SubscriberBuffer::TryPushResult::kClosed:
        it = attached_.erase(it);
        break;
    }
  }
}

}  // namespace inbeeld::delivery

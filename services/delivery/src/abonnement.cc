#include "inbeeld/delivery/abonnement.h"

#include <pthread.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "inbeeld/delivery/aflevering_record.h"
#include "inbeeld/delivery/repeat_window.h"
#include "inbeeld/util/log.h"

namespace inbeeld::delivery {

Abonnement::Abonnement(std::string organisatie, Cursor start, ReaderSource::Open open_reader,
                       std::shared_ptr<FanOut> fan_out, Options options, CutOffHandling cut_off)
    : organisatie_(std::move(organisatie)),
      start_(std::move(start)),
      open_reader_(std::move(open_reader)),
      fan_out_(std::move(fan_out)),
      options_(options),
      cut_off_(std::move(cut_off)),
      buffer_(options.buffer_capacity) {}

Abonnement::~Abonnement() {
  Stop(absl::CancelledError("subscription ended"));
  std::thread worker;
  {
    absl::MutexLock lock(&mu_);
    worker = std::move(worker_);
  }
  if (worker.joinable()) worker.join();
  // After the worker: it can no longer attach.
  if (fan_out_ != nullptr) fan_out_->Detach(this);
}

void Abonnement::Start() {
  if (fan_out_ != nullptr && fan_out_->Attach(this, start_, /*read_up_to_position=*/false)) {
    attached_.store(true);
    return;
  }
  CatchUpFrom(start_);
}

void Abonnement::Stop(absl::Status status) {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (!stop_.exchange(true)) stopped_.Notify();
  buffer_.Close(std::move(status), /*discard_pending=*/true);
}

bool Abonnement::caught_up() const {
  if (attached_.load()) return fan_out_->caught_up();
  return caught_up_.load();
}

void Abonnement::FellBehind(Cursor position) { CatchUpFrom(std::move(position)); }

void Abonnement::CatchUpFrom(Cursor position) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  attached_.store(false);
  catch_up_from_ = std::move(position);
  if (!worker_.joinable()) {
    worker_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "abonnement");
      Worker();
    });
  }
}

void Abonnement::Worker() {
  while (true) {
    Cursor from;
    {
      absl::MutexLock lock(&mu_);
      auto requested = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return catch_up_from_.has_value() || stopping_;
      };
      mu_.Await(absl::Condition(&requested));
      if (stopping_) return;
      from = *std::move(catch_up_from_);
      catch_up_from_.reset();
    }
    if (CatchUp(from) == CatchUpEnd::kEnded) return;
  }
}

bool Abonnement::TryAttach(const Cursor& position) {
  if (fan_out_ == nullptr || stop_.load()) return false;
  if (!fan_out_->Attach(this, position, /*read_up_to_position=*/true)) return false;
  attached_.store(true);
  return true;
}

void Abonnement::HandleCutOff() {
  if (cut_off_.on_cut_off) cut_off_.on_cut_off();
  if (!stopped_.WaitForNotificationWithTimeout(cut_off_.stuck_grace) && cut_off_.on_stuck) {
    cut_off_.on_stuck();
  }
}

Abonnement::CatchUpEnd Abonnement::CatchUp(const Cursor& from) {
  if (options_.catch_up_readers != nullptr) options_.catch_up_readers->Increment();
  struct Uncount {
    prometheus::Gauge* gauge;
    ~Uncount() {
      if (gauge != nullptr) gauge->Decrement();
    }
  } uncount{options_.catch_up_readers};

  caught_up_.store(false);
  absl::StatusOr<std::unique_ptr<AfleveringReader>> reader =
      open_reader_(from, options_.repeat_window);
  if (!reader.ok()) {
    util::LogWarn("subscription reader not available",
                  {{"organisatie", organisatie_}, {"error", std::string(reader.status().message())}});
    // A cursor before the retained signals (or past the end) stays
    // OUT_OF_RANGE: never skip them. Anything else: try again later.
    absl::Status status = reader.status().code() == absl::StatusCode::kOutOfRange
                              ? reader.status()
                              : absl::UnavailableError(absl::StrCat(
                                    "signals not available yet: ", reader.status().message()));
    buffer_.Close(std::move(status), /*discard_pending=*/false);
    return CatchUpEnd::kEnded;
  }
  RepeatWindow repeats(options_.repeat_window);
  Cursor position = from;
  // Attaching takes the tail's lock: try it when caught up, and now and then
  // on the way (the tail may stand still behind this reader).
  constexpr int kAttachEvery = 64;
  int since_attach_try = 0;
  while (!stop_.load()) {
    absl::StatusOr<std::optional<kafka::InRecord>> polled = (*reader)->Poll(options_.poll_timeout);
    if (!polled.ok()) {
      util::LogWarn("subscription reader failed",
                    {{"organisatie", organisatie_}, {"error", std::string(polled.status().message())}});
      buffer_.Close(polled.status(), /*discard_pending=*/false);
      return CatchUpEnd::kEnded;
    }
    if (!polled->has_value()) {
      caught_up_.store(true);
      if (TryAttach(position)) return CatchUpEnd::kAttached;
      continue;
    }
    caught_up_.store(false);
    const kafka::InRecord& record = **polled;
    auto named = from.next_offsets.find(record.partition);
    const bool before_cursor = named != from.next_offsets.end() && record.offset < named->second;
    if (!before_cursor) {
      // Every record read moves the position, also the ones for other
      // organisations: a resume must not scan them again.
      position.next_offsets[record.partition] = record.offset + 1;
    }
    if (record.key != organisatie_) continue;
    std::optional<v1::Signaal> signaal = DecodeAfleveringRecord(record);
    if (!signaal.has_value()) continue;
    const bool repeat = repeats.ObserveIsRepeat(record.partition, record.offset, record.key,
                                                signaal->signaal_id());
    // The look-back before the cursor only teaches the window what the
    // subscriber already had.
    if (before_cursor) continue;
    if (repeat) {
      if (options_.repeats_dropped != nullptr) options_.repeats_dropped->Increment();
      continue;
    }
    Aflevering aflevering = MakeAflevering(*std::move(signaal), record);
    aflevering.bericht.set_cursor(EncodeCursor(position));
    if (!buffer_.Push(std::move(aflevering), cut_off_.slow_subscriber_timeout)) {
      if (!stop_.load()) HandleCutOff();
      return CatchUpEnd::kEnded;
    }
    if (++since_attach_try == kAttachEvery) {
      since_attach_try = 0;
      if (TryAttach(position)) return CatchUpEnd::kAttached;
    }
  }
  return CatchUpEnd::kEnded;
}

}  // namespace inbeeld::delivery

#pragma once
// One subscription: the bounded SubscriberBuffer that the gRPC handler
// drains, fed either by the service's shared tail reader (FanOut) or, while
// the subscriber lags behind it, by a catch-up reader of its own:
//
//   cursor at the tail ──────────────► attached to the FanOut
//   older cursor ─► catch-up reader ─► attached once it reaches the tail
//   buffer full while attached ──────► catch-up reader from that record
//
// Both keep only the records keyed with the organisation's id, withhold
// repeats (RepeatWindow) and give every message the cursor just after it.
// The catch-up reader waits for room in the buffer; a buffer that stays full
// for the slow-subscriber timeout cuts the subscriber off.
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "inbeeld/delivery/aflevering_reader.h"
#include "inbeeld/delivery/cursor.h"
#include "inbeeld/delivery/fan_out.h"
#include "inbeeld/delivery/subscriber_buffer.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

namespace inbeeld::delivery {

class Abonnement final : public FanOut::Subscriber {
 public:
  struct CutOffHandling {
    // How long a full buffer may stay full before the subscriber is cut off.
    absl::Duration slow_subscriber_timeout = absl::Seconds(30);
    // Runs on the catch-up thread at the moment of the cut-off.
    std::function<void()> on_cut_off;
    // A cut-off subscriber sees RESOURCE_EXHAUSTED once it reads again; one
    // that never reads nor disconnects keeps its handler blocked in Write.
    // After this grace `on_stuck` runs (the service cancels the call) unless
    // the subscription ended first.
    absl::Duration stuck_grace = absl::Seconds(30);
    std::function<void()> on_stuck;
  };
  struct Options {
    size_t buffer_capacity = 1000;
    // How long the catch-up reader waits for a record before it checks for
    // the tail and for stop.
    absl::Duration poll_timeout = absl::Milliseconds(200);
    // RepeatWindow::window; also how far before its start a catch-up reader
    // begins to read.
    int64_t repeat_window = 5000;
    prometheus::Counter* repeats_dropped = nullptr;  // may be null
    prometheus::Gauge* catch_up_readers = nullptr;   // may be null
  };
  // `open_reader` opens catch-up readers (ReaderSource::open); `fan_out` may
  // be null (then the catch-up reader serves the whole subscription).
  Abonnement(std::string organisatie, Cursor start, ReaderSource::Open open_reader,
             std::shared_ptr<FanOut> fan_out, Options options, CutOffHandling cut_off);
  // Stops the catch-up thread, detaches from the tail.
  ~Abonnement() override;
  Abonnement(const Abonnement&) = delete;
  Abonnement& operator=(const Abonnement&) = delete;

  // Attaches to the tail when the cursor is exactly where it stands, else
  // starts catching up.
  void Start();
  // Ends the stream with `status` (e.g. UNAVAILABLE on shutdown) and stops
  // reading.
  void Stop(absl::Status status);

  SubscriberBuffer& buffer() override { return buffer_; }
  const std::string& organisatie() const override { return organisatie_; }
  // True while the reader feeding it has nothing newer than what it
  // buffered.
  bool caught_up() const;
  // Fed by the shared tail (false while catching up).
  bool attached() const { return attached_.load(); }

  void FellBehind(Cursor position) override;

 private:
  enum class CatchUpEnd { kAttached, kEnded };
  void CatchUpFrom(Cursor position);
  void Worker();
  CatchUpEnd CatchUp(const Cursor& from);
  bool TryAttach(const Cursor& position);
  void HandleCutOff();

  const std::string organisatie_;
  const Cursor start_;
  const ReaderSource::Open open_reader_;
  const std::shared_ptr<FanOut> fan_out_;
  const Options options_;
  const CutOffHandling cut_off_;
  SubscriberBuffer buffer_;
  absl::Notification stopped_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> attached_{false};
  std::atomic<bool> caught_up_{false};  // of the catch-up reader

  absl::Mutex mu_;
  std::optional<Cursor> catch_up_from_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Started at the first catch-up and kept (idle while attached): the tail
  // thread that asks for a catch-up must never wait for a thread to end.
  std::thread worker_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inbeeld::delivery

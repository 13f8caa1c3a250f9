#pragma once
// One subscription: a thread that reads inbeeld.aflevering.v1 from the
// subscriber's cursor, keeps the records keyed with the organisation's id and
// hands them, each with the cursor after it, to a bounded SubscriberBuffer.
// The gRPC handler drains the buffer; the thread never blocks on the client.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "inbeeld/delivery/aflevering_reader.h"
#include "inbeeld/delivery/cursor.h"
#include "inbeeld/delivery/subscriber_buffer.h"

namespace inbeeld::delivery {

class Abonnement {
 public:
  struct CutOffHandling {
    // How long a full buffer may stay full before the subscriber is cut off.
    absl::Duration slow_subscriber_timeout = absl::Seconds(30);
    // Runs on the reader thread at the moment of the cut-off.
    std::function<void()> on_cut_off;
    // A cut-off subscriber sees RESOURCE_EXHAUSTED once it reads again; one
    // that never reads nor disconnects keeps its handler blocked in Write.
    // After this grace `on_stuck` runs (the service cancels the call) unless
    // the subscription ended first.
    absl::Duration stuck_grace = absl::Seconds(30);
    std::function<void()> on_stuck;
  };
  Abonnement(std::string organisatie, std::unique_ptr<AfleveringReader> reader, Cursor start,
             size_t buffer_capacity, absl::Duration poll_timeout, CutOffHandling cut_off);
  // Stops and joins the reader thread.
  ~Abonnement();
  Abonnement(const Abonnement&) = delete;
  Abonnement& operator=(const Abonnement&) = delete;

  void Start();
  // Ends the stream with `status` (e.g. UNAVAILABLE on shutdown) and stops
  // reading.
  void Stop(absl::Status status);

  SubscriberBuffer& buffer() { return buffer_; }
  const std::string& organisatie() const { return organisatie_; }
  // True while the reader has nothing newer than what it buffered.
  bool caught_up() const { return caught_up_.load(); }

 private:
  void Run();
  void HandleCutOff();

  const std::string organisatie_;
  std::unique_ptr<AfleveringReader> reader_;
  Cursor position_;  // reader thread only
  SubscriberBuffer buffer_;
  const absl::Duration poll_timeout_;
  const CutOffHandling cut_off_;
  absl::Notification stopped_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> caught_up_{false};
  std::thread thread_;
};

}  // namespace inbeeld::delivery

#pragma once
// The shared tail reader of inbeeld.aflevering.v1: one Kafka reader for the
// whole service that hands every new record to the subscribers of the
// record's organisation (its key), instead of one reader per subscriber.
//
// It starts at the end of the topic (first reading `repeat_window` offsets
// before it, to recognise repeats; those records go to nobody). A subscriber
// whose cursor is exactly where the tail stands is attached at once; one with
// an older cursor catches up on its own reader and attaches once that reader
// has reached the tail (Abonnement). The tail never waits for a subscriber:
// one whose buffer is full is detached and continues on its own reader from
// the record it could not take, where the slow-subscriber cut-off applies.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/delivery/aflevering_reader.h"
#include "inbeeld/delivery/cursor.h"
#include "inbeeld/delivery/repeat_window.h"
#include "inbeeld/delivery/subscriber_buffer.h"
#include "inbeeld/v1/signaal.pb.h"
#include "prometheus/counter.h"

namespace inbeeld::delivery {

class FanOut {
 public:
  // What the tail needs of a subscription.
  class Subscriber {
   public:
    virtual ~Subscriber() = default;
    virtual const std::string& organisatie() const = 0;
    virtual SubscriberBuffer& buffer() = 0;
    // The buffer was full: the tail has detached the subscriber, which goes
    // on from `position` on its own reader. Runs on the tail thread under
    // the tail's lock: must not block.
    virtual void FellBehind(Cursor position) = 0;
  };

  struct Options {
    int64_t repeat_window = 5000;
    absl::Duration poll_timeout = absl::Milliseconds(200);
    // inbeeld_delivery_repeats_dropped_total; may be null.
    prometheus::Counter* repeats_dropped = nullptr;
  };

  // Opens the tail at `source.end()` and starts its thread.
  static absl::StatusOr<std::unique_ptr<FanOut>> Open(const ReaderSource& source, Options options);
  ~FanOut();
  FanOut(const FanOut&) = delete;
  FanOut& operator=(const FanOut&) = delete;

  // Attaches `subscriber` when the tail stands at `position`: from then on it
  // receives every record of its organisation after `position`. With
  // `read_up_to_position` (a catch-up reader read the log up to there) any
  // position at or after the tail's is accepted; otherwise (a client's
  // cursor, not yet checked against the log) only exactly the tail's
  // position. False: not attached (catch up first, or the tail failed).
  bool Attach(Subscriber* subscriber, const Cursor& position, bool read_up_to_position);
  // No record reaches `subscriber` after this returns.
  void Detach(Subscriber* subscriber);

  // OK while running; the error that stopped the tail (its attached
  // subscribers were ended with UNAVAILABLE).
  absl::Status status() const;
  // True while the tail has nothing newer than what it handed out.
  bool caught_up() const { return caught_up_.load(); }
  int attached() const;

 private:
  struct Attached {
    Subscriber* subscriber;
    std::vector<int64_t> next;  // per partition: first offset still to deliver
  };

  FanOut(std::unique_ptr<AfleveringReader> reader, Cursor end, Options options);
  void Run();
  // Hands a decoded record to the subscribers of its organisation.
  void Dispatch(const kafka::InRecord& record, const v1::Signaal& signaal, bool repeat)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Fail(absl::Status status);
  // Where the tail stands for attaching: its position, but never before the
  // end it started at (the look-back records go to nobody).
  int64_t StandsAt(int32_t partition) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  std::unique_ptr<AfleveringReader> reader_;  // tail thread only
  const std::vector<int64_t> start_end_;       // high watermarks at open
  RepeatWindow repeats_;                       // tail thread only

  mutable absl::Mutex mu_;
  std::vector<int64_t> position_ ABSL_GUARDED_BY(mu_);  // next offset the tail reads
  std::multimap<std::string, Attached> attached_ ABSL_GUARDED_BY(mu_);  // by organisatie
  absl::Status status_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> stop_{false};
  std::atomic<bool> caught_up_{false};
  std::thread thread_;
};

}  // namespace inbeeld::delivery

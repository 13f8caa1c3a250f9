#pragma once
// Delivery's metrics (TEAM.md contract). The organisatie label is bounded by
// the organisation table: ids outside it (plaintext dev mode) count as
// "overig".
#include <string>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace inbeeld::delivery {

class DeliveryMetrics {
 public:
  explicit DeliveryMetrics(prometheus::Registry& registry);

  prometheus::Gauge& Subscribers(const std::string& organisatie);
  prometheus::Counter& Sent(const std::string& organisatie);
  prometheus::Counter& CutOff(const std::string& organisatie);
  prometheus::Gauge& LagSeconds(const std::string& organisatie);
  prometheus::Histogram& EndToEnd() { return end_to_end_; }
  // Repeated signals (RepeatWindow) withheld from a stream, one per stream.
  prometheus::Counter& RepeatsDropped() { return repeats_dropped_; }
  // Subscriptions on a catch-up reader of their own (not on the shared one).
  prometheus::Gauge& CatchUpReaders() { return catch_up_readers_; }

 private:
  prometheus::Family<prometheus::Gauge>& subscribers_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& cut_off_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Histogram& end_to_end_;
  prometheus::Counter& repeats_dropped_;
  prometheus::Gauge& catch_up_readers_;
};

}  // namespace inbeeld::delivery

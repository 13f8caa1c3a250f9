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

 private:
  prometheus::Family<prometheus::Gauge>& subscribers_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& cut_off_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Histogram& end_to_end_;
};

}  // namespace inbeeld::delivery

#include "inbeeld/delivery/metrics.h"

namespace inbeeld::delivery {
namespace {

// End-to-end runs from a school's event to an organisation's screen: seconds
// to hours (timers fire days later, but those signals carry the time of the
// tick, so hours is the useful top).
prometheus::Histogram::BucketBoundaries EndToEndBuckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
}

}  // namespace

DeliveryMetrics::DeliveryMetrics(prometheus::Registry& registry)
    : subscribers_(prometheus::BuildGauge()
                       .Name("inbeeld_delivery_subscribers")
                       .Help("Open Subscribe streams per organisation")
                       .Register(registry)),
      sent_(prometheus::BuildCounter()
                .Name("inbeeld_delivery_signals_sent_total")
                .Help("Signals written to subscribers")
                .Register(registry)),
      cut_off_(prometheus::BuildCounter()
                   .Name("inbeeld_delivery_subscribers_cut_off_total")
                   .Help("Subscribers cut off with RESOURCE_EXHAUSTED because they did not keep up")
                   .Register(registry)),
      lag_(prometheus::BuildGauge()
               .Name("inbeeld_delivery_lag_seconds")
               .Help("Age of the last signal sent to the organisation (0 when caught up)")
               .Register(registry)),
      end_to_end_(prometheus::BuildHistogram()
                      .Name("inbeeld_delivery_end_to_end_seconds")
                      .Help("From ingest (inbeeld_ingest_time) to sent to a subscriber")
                      .Register(registry)
                      .Add({}, EndToEndBuckets())),
      repeats_dropped_(prometheus::BuildCounter()
                           .Name("inbeeld_delivery_repeats_dropped_total")
                           .Help("Repeated aflevering records (same signaal_id within the repeat "
                                 "window) not sent, counted once per stream")
                           .Register(registry)
                           .Add({})),
      catch_up_readers_(prometheus::BuildGauge()
                            .Name("inbeeld_delivery_catch_up_readers")
                            .Help("Subscriptions reading on a catch-up reader of their own "
                                  "instead of the shared one")
                            .Register(registry)
                            .Add({})) {}

prometheus::Gauge& DeliveryMetrics::Subscribers(const std::string& organisatie) {
  return subscribers_.Add({{"organisatie", organisatie}});
}
prometheus::Counter& DeliveryMetrics::Sent(const std::string& organisatie) {
  return sent_.Add({{"organisatie", organisatie}});
}
prometheus::Counter& DeliveryMetrics::CutOff(const std::string& organisatie) {
  return cut_off_.Add({{"organisatie", organisatie}});
}
prometheus::Gauge& DeliveryMetrics::LagSeconds(const std::string& organisatie) {
  return lag_.Add({{"organisatie", organisatie}});
}

}  // namespace inbeeld::delivery

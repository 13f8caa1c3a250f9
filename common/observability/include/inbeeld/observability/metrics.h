#pragma once
// The process-wide metrics registry and its /metrics exposer. Metric names
// follow Prometheus conventions: prefix inbeeld_, base units, _total on
// counters; labels are bounded sets (kinds, codes, organisation ids) and never
// carry personal data.
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace inbeeld::observability {

// The one registry of this process (the only singleton, by design).
prometheus::Registry& Registry();
std::shared_ptr<prometheus::Registry> RegistryPtr();

// Serves Registry() at http://<address>/metrics. "127.0.0.1:0" picks a port.
class MetricsServer {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& address);
  virtual ~MetricsServer() = default;
  virtual int port() const = 0;
  // "host:port" as bound.
  virtual std::string address() const = 0;
};

// Latency buckets in seconds from 0.5 ms to 10 s.
prometheus::Histogram::BucketBoundaries LatencyBuckets();

}  // namespace inbeeld::observability

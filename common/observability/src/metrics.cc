#include "inbeeld/observability/metrics.h"

#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"

namespace inbeeld::observability {

std::shared_ptr<prometheus::Registry> RegistryPtr() {
  static auto* registry = new std::shared_ptr<prometheus::Registry>(
      std::make_shared<prometheus::Registry>());
  return *registry;
}

prometheus::Registry& Registry() { return *RegistryPtr(); }

namespace {

class CivetMetricsServer final : public MetricsServer {
 public:
  CivetMetricsServer(std::unique_ptr<prometheus::Exposer> exposer, std::string host, int port)
      : exposer_(std::move(exposer)), host_(std::move(host)), port_(port) {}
  int port() const override { return port_; }
  std::string address() const override { return absl::StrCat(host_, ":", port_); }

 private:
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string host_;
  int port_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("metrics address must be host:port, got ", address));
  }
  std::string host = address.substr(0, colon);
  if (host.empty() || host == "0.0.0.0") host = host.empty() ? "0.0.0.0" : host;
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // civetweb reports bind failures as exceptions: the one place we catch them,
    // at start-up, and turn them into a Status.
    exposer = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  exposer->RegisterCollectable(RegistryPtr());
  auto ports = exposer->GetListeningPorts();
  if (ports.empty()) return absl::InternalError("metrics exposer has no listening port");
  return std::unique_ptr<MetricsServer>(new CivetMetricsServer(std::move(exposer), host, ports[0]));
}

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace inbeeld::observability

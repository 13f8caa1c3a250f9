#pragma once
// Shared helpers of the integration tests: valid events of every kind, sending
// an event over the MeldingService stub, reading the event topics back, and
// generic (schema-less) gRPC calls for grpc.health.v1 and server reflection,
// whose generated code Debian's gRPC does not ship.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/v1/events.pb.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"

namespace inbeeld::integration {

// Generous: child start-up and the mock's group join are slow on a loaded
// 2-core machine. These bound hangs; no assertion depends on them.
inline constexpr absl::Duration kReadyTimeout = absl::Seconds(120);
inline constexpr absl::Duration kExitTimeout = absl::Seconds(30);
inline constexpr std::chrono::seconds kRpcDeadline{30};

// A BSN that fails the eleven-test (and is therefore never a real person's).
inline constexpr std::string_view kInvalidBsn = "123456789";

// Valid events; `seed` picks the leerling (SyntheticBsn(seed)), `id` the
// event id. Dates are fixed: validation does not depend on today.
v1::Event ValidVerzuimMelding(int seed, const std::string& id);
v1::Event ValidInschrijving(int seed, const std::string& id);
v1::Event ValidAdresMutatie(int seed, const std::string& id);
v1::Event ValidVrijstelling(int seed, const std::string& id);

// The leerling of an event (mutable, to break it on purpose).
v1::Leerling* MutableLeerling(v1::Event* event);

// A plaintext channel to a local test server (never through an HTTP proxy
// from the environment).
std::shared_ptr<grpc::Channel> LocalChannel(const std::string& address);

// Sends one event with the unary RPC of its kind.
grpc::Status Send(v1::MeldingService::Stub& stub, const v1::Event& event, v1::MeldAntwoord* resp,
                  std::chrono::seconds deadline = kRpcDeadline);

// Every record of `topic` (all partitions) from offset 0 to the end as of now.
absl::StatusOr<std::vector<kafka::InRecord>> ReadTopic(const std::string& bootstrap, std::string_view topic);

// A unary call without generated code: serialized request in, serialized
// response out (a non-OK gRPC status becomes the error).
absl::StatusOr<std::string> GenericUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                                             const std::string& method, const std::string& request);

// The grpc.health.v1.Health/Check status of `service` ("" = the server):
// 1 = SERVING, 2 = NOT_SERVING, 0 = UNKNOWN.
absl::StatusOr<int> HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service);

// Service names listed by grpc.reflection.v1alpha.ServerReflection.
absl::StatusOr<std::vector<std::string>> ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel);

// GET http://address/path (HTTP/1.0, the metrics endpoints); the body.
absl::StatusOr<std::string> HttpGet(const std::string& address, const std::string& path);

// The value of the sample `name{labels}` in Prometheus text format (labels
// compared as a set, order-free); nullopt when there is no such sample.
std::optional<double> MetricValue(const std::string& text, const std::string& name,
                                  const std::map<std::string, std::string>& labels);

// Sum of every sample of `name` (all label sets) in Prometheus text format.
double MetricSum(const std::string& text, const std::string& name);

}  // namespace inbeeld::integration

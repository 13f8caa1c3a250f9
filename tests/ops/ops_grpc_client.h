#pragma once
// Test helpers that talk to gRPC servers without generated stubs: the
// grpc.health.v1 Check call (its two messages are tiny, so they are encoded by
// hand) and a generic unary call that only reports the status code.
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace inbeeld::ops_test {

// grpc.health.v1.HealthCheckResponse.ServingStatus values.
inline constexpr int kServingUnknown = 0;
inline constexpr int kServing = 1;
inline constexpr int kNotServing = 2;

// Check(service = "") over a plaintext channel: the ServingStatus, or the
// gRPC error (UNAVAILABLE when nothing listens any more).
absl::StatusOr<int> HealthCheck(const std::string& address, absl::Duration deadline = absl::Seconds(5));

// A unary call of `method` ("/pkg.Service/Method") with an empty request;
// returns the status code the server answered with.
grpc::StatusCode CallEmpty(const std::string& address, const std::string& method,
                           absl::Duration deadline = absl::Seconds(5));

}  // namespace inbeeld::ops_test

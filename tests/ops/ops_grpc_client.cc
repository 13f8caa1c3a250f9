#include "ops_grpc_client.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace inbeeld::ops_test {
namespace {

grpc::Status Unary(const std::string& address, const std::string& method, const std::string& request,
                   std::string* response, absl::Duration deadline) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(deadline));
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1);
  grpc::ByteBuffer resp;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status result;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &req, &resp, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(s);
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (result.ok() && response != nullptr) {
    std::vector<grpc::Slice> slices;
    (void)resp.Dump(&slices);
    response->clear();
    for (const auto& s : slices) response->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return result;
}

}  // namespace

absl::StatusOr<int> HealthCheck(const std::string& address, absl::Duration deadline) {
  std::string response;
  // HealthCheckRequest{service: ""} encodes to zero bytes.
  grpc::Status s = Unary(address, "/grpc.health.v1.Health/Check", "", &response, deadline);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  // HealthCheckResponse{status = 1: enum}: empty (UNKNOWN) or tag 0x08 + varint.
  if (response.empty()) return kServingUnknown;
  if (response.size() != 2 || response[0] != 0x08) {
    return absl::InternalError(absl::StrCat("unexpected health response of ", response.size(), " bytes"));
  }
  return static_cast<int>(response[1]);
}

grpc::StatusCode CallEmpty(const std::string& address, const std::string& method, absl::Duration deadline) {
  return Unary(address, method, "", nullptr, deadline).error_code();
}

}  // namespace inbeeld::ops_test

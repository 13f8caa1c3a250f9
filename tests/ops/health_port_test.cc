// The plaintext health-only listener (ServerOptions::health_listen,
// --health-listen) that the kubelet's grpc readiness probe uses (deploy/k8s).
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "child_process.h"
#include "gtest/gtest.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "ops_grpc_client.h"

namespace inbeeld::ops_test {
namespace {

using testing_util::ChildProcess;
using testing_util::TempDir;

constexpr char kReflection[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

grpc_util::TlsOptions Plaintext() {
  grpc_util::TlsOptions tls;
  tls.plaintext = true;
  return tls;
}

// Any service will do for the main listener (gRPC refuses a server without one).
class UnimplementedMeldingService final : public v1::MeldingService::Service {};

TEST(HealthListenTest, ServingAfterStartNotServingAfterShutdown) {
  UnimplementedMeldingService service;
  grpc_util::ServerOptions options;
  options.health_listen = "127.0.0.1:0";
  auto server = grpc_util::Server::Start("127.0.0.1:0", Plaintext(), {&service}, options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_NE((*server)->health_port(), 0);
  ASSERT_NE((*server)->health_port(), (*server)->port());
  EXPECT_EQ((*server)->health_address(), absl::StrCat("127.0.0.1:", (*server)->health_port()));

  auto health = HealthCheck((*server)->health_address());
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, kServing);

  (*server)->Shutdown(absl::Milliseconds(100));
  // The listener stays up during the drain and answers NOT_SERVING (a probe
  // would also read "unavailable" as not ready, but this tells it why).
  auto after = HealthCheck((*server)->health_address(), absl::Seconds(2));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, kNotServing);
  const std::string health_address = (*server)->health_address();
  server->reset();
  EXPECT_FALSE(HealthCheck(health_address, absl::Seconds(2)).ok());
}

TEST(HealthListenTest, HealthPortServesOnlyHealth) {
  UnimplementedMeldingService service;
  grpc_util::ServerOptions options;
  options.health_listen = "127.0.0.1:0";
  auto server = grpc_util::Server::Start("127.0.0.1:0", Plaintext(), {&service}, options);
  ASSERT_TRUE(server.ok()) << server.status();
  // The main listener has reflection; the health listener must not.
  EXPECT_NE(CallEmpty((*server)->address(), kReflection), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(CallEmpty((*server)->health_address(), kReflection), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(CallEmpty((*server)->health_address(), "/inbeeld.v1.MeldingService/MeldVerzuim"),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST(HealthListenTest, OffByDefault) {
  UnimplementedMeldingService service;
  auto server = grpc_util::Server::Start("127.0.0.1:0", Plaintext(), {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->health_port(), 0);
  EXPECT_EQ((*server)->health_address(), "");
}

TEST(HealthListenTest, BadAddressIsAnError) {
  UnimplementedMeldingService service;
  grpc_util::ServerOptions options;
  options.health_listen = "256.1.1.1:99999";
  auto server = grpc_util::Server::Start("127.0.0.1:0", Plaintext(), {&service}, options);
  EXPECT_FALSE(server.ok());
}

// Development PKI in a temp dir (scripts/gen-certs), so the services' main port
// requires mutual TLS while the probe uses the plaintext health port.
struct Certs {
  TempDir dir;
  bool ok = false;
  Certs() {
    std::string cmd = testing_util::SourceDir() + "/scripts/gen-certs '" + dir.path() +
                      "' ops-test:00000001234567890000 >/dev/null 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }
};

class ServiceHealthListenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ServiceHealthListenTest, HealthFlagServesPlaintextHealthUntilShutdown) {
  const std::string svc = GetParam();
  auto cluster = kafka::EmbeddedCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopics(kafka::InBeeldTopics(1, 1)).ok());
  Certs certs;
  ASSERT_TRUE(certs.ok) << "scripts/gen-certs failed";
  TempDir tmp;
  std::vector<std::string> args = {
      "--kafka=" + (*cluster)->bootstrap_servers(), "--grpc-listen=127.0.0.1:0",
      "--metrics-listen=127.0.0.1:0",               "--health-listen=127.0.0.1:0",
      "--ready-file=" + tmp.File("ready"),          "--tls-cert=" + certs.dir.File("server.crt"),
      "--tls-key=" + certs.dir.File("server.key"),  "--tls-ca=" + certs.dir.File("ca.crt"),
      "--pseudonym-secret=ops-test-secret-0123456789abcdef"};
  if (svc == "signaling") args.push_back("--state-dir=" + tmp.File("state"));
  if (svc == "delivery") {
    args.push_back("--organisaties=" + testing_util::SourceDir() + "/deploy/config/organisaties.csv");
  }
  auto child = ChildProcess::Start("inbeeld-" + svc, args, tmp.File(svc));
  ASSERT_TRUE(child.ok()) << child.status();
  auto ready = testing_util::WaitForReadyFile(tmp.File("ready"), absl::Seconds(60));
  ASSERT_TRUE(ready.ok()) << ready.status() << "\n" << (*child)->Stderr();
  ASSERT_TRUE(ready->contains("health")) << "ready file without \"health\"";
  const std::string health_address = ready->at("health");
  EXPECT_NE(health_address, ready->at("grpc"));

  auto health = HealthCheck(health_address);
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, kServing);
  // The main port still demands TLS: a plaintext call there fails.
  EXPECT_FALSE(HealthCheck(ready->at("grpc"), absl::Seconds(2)).ok());

  (*child)->Signal(SIGTERM);
  // A bound, not a performance assertion: the process contract's 10 s.
  auto code = (*child)->Wait(absl::Seconds(10));
  ASSERT_TRUE(code.has_value()) << "no exit within 10 s\n" << (*child)->Stderr();
  EXPECT_EQ(*code, 0) << (*child)->Stderr();
  EXPECT_FALSE(HealthCheck(health_address, absl::Seconds(2)).ok());
}

INSTANTIATE_TEST_SUITE_P(Services, ServiceHealthListenTest,
                         ::testing::Values("ingest", "signaling", "delivery"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace inbeeld::ops_test

// `inbeeld run --tls-dir` with the development PKI from scripts/gen-certs:
// ingest speaks mutual TLS only. A client with a CA-signed certificate is
// served; a client without a certificate, or without TLS, is refused and
// nothing it sent reaches Kafka.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "child_process.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/kafka/topics.h"
#include "integration_support.h"

namespace inbeeld::integration {
namespace {

using testing_util::ChildProcess;
using testing_util::ReadFileOrEmpty;
using testing_util::TempDir;

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca,
                                          const std::string& cert, const std::string& key) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca;
  options.pem_cert_chain = cert;
  options.pem_private_key = key;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  // The server certificate names localhost and 127.0.0.1; the ready file
  // gives 127.0.0.1:port, so the IP SAN is what gets verified.
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), args);
}

TEST(IngestTlsTest, MutualTlsServesCertifiedClientsAndRefusesOthers) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string certs = dir.File("certs");
  {
    auto gen = ChildProcess::Start(testing_util::SourceDir() + "/scripts/gen-certs",
                                   {certs, "test-org:00000001234567890000"}, dir.File("gen-certs"));
    ASSERT_TRUE(gen.ok()) << gen.status();
    std::optional<int> code = (*gen)->Wait(kReadyTimeout);
    ASSERT_TRUE(code.has_value()) << "scripts/gen-certs did not finish";
    ASSERT_EQ(*code, 0) << (*gen)->Stderr();
  }
  // Relative to the working directory, as scripts/run passes --tls-dir: the
  // services resolve a relative file flag against their --config-dir and a
  // relative --state-dir below their --data-dir, so `inbeeld run` must hand
  // them absolute paths.
  const std::string relative_certs = std::filesystem::relative(certs).string();
  const std::string relative_state = std::filesystem::relative(dir.File("state")).string();
  ASSERT_FALSE(relative_certs.empty());
  ASSERT_NE(relative_certs.front(), '/');
  ASSERT_NE(relative_state.front(), '/');
  auto child = ChildProcess::Start(
      "inbeeld",
      {"run", "--demo=false", "--tls-dir=" + relative_certs, "--ready-file=" + dir.File("run.ready"),
       "--state-dir=" + relative_state},
      dir.File("run"));
  ASSERT_TRUE(child.ok()) << child.status();
  std::unique_ptr<ChildProcess> run = std::move(*child);
  auto ready = testing_util::WaitForReadyFile(dir.File("run.ready"), kReadyTimeout);
  ASSERT_TRUE(ready.ok()) << ready.status() << "\n" << run->Stderr();
  EXPECT_EQ((*ready)["tls"], "mutual");
  // The services' state where --state-dir says, not below it once more.
  EXPECT_TRUE(std::filesystem::is_directory(dir.File("state") + "/signaling"));
  EXPECT_TRUE(std::filesystem::is_directory(dir.File("state") + "/routing"));
  ASSERT_TRUE(ready->contains("ingest_grpc"));
  const std::string address = (*ready)["ingest_grpc"];
  const std::string ca = ReadFileOrEmpty(certs + "/ca.crt");
  ASSERT_FALSE(ca.empty());

  // A school with its certificate: served.
  auto school = TlsChannel(address, ca, ReadFileOrEmpty(certs + "/clients/school-demo.crt"),
                           ReadFileOrEmpty(certs + "/clients/school-demo.key"));
  auto stub = v1::MeldingService::NewStub(school);
  const v1::Event accepted = ValidVerzuimMelding(301, "tls-1");
  v1::MeldAntwoord resp;
  grpc::Status st = Send(*stub, accepted, &resp);
  ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_EQ(resp.event_id(), events::CeId(accepted));
  auto health = HealthCheck(school, "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, 1);

  // TLS without a client certificate: the handshake is refused.
  auto anonymous = v1::MeldingService::NewStub(TlsChannel(address, ca, "", ""));
  v1::MeldAntwoord anonymous_resp;
  grpc::Status anonymous_st = Send(*anonymous, ValidVerzuimMelding(302, "tls-2"), &anonymous_resp);
  EXPECT_FALSE(anonymous_st.ok()) << "served a client without a certificate";

  // A valid certificate of the CA, but not of a known school/DUO/gemeente
  // (an organisation's or an unknown OIN): UNAUTHENTICATED, nothing stored.
  for (const std::string who : {"unknown", "test-org"}) {
    auto other = v1::MeldingService::NewStub(TlsChannel(address, ca, ReadFileOrEmpty(certs + "/clients/" + who + ".crt"),
                                                        ReadFileOrEmpty(certs + "/clients/" + who + ".key")));
    v1::MeldAntwoord other_resp;
    grpc::Status other_st = Send(*other, ValidVerzuimMelding(304, "tls-4-" + who), &other_resp);
    EXPECT_EQ(other_st.error_code(), grpc::UNAUTHENTICATED) << who << ": " << other_st.error_message();
  }

  // No TLS at all: refused.
  auto plain = v1::MeldingService::NewStub(LocalChannel(address));
  v1::MeldAntwoord plain_resp;
  grpc::Status plain_st = Send(*plain, ValidVerzuimMelding(303, "tls-3"), &plain_resp);
  EXPECT_FALSE(plain_st.ok()) << "served a plaintext client";

  // Only the certified client's event is on Kafka.
  auto records = ReadTopic((*ready)["kafka"], kafka::kTopicVerzuimmeldingen);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(kafka::FindHeader((*records)[0].headers, kafka::kHeaderCeId).value_or(""), resp.event_id());
}

}  // namespace
}  // namespace inbeeld::integration

// inbeeld-ingest alone with a Kafka that is not there: a request must get
// UNAVAILABLE within its deadline (never an acknowledgement of something not
// stored, no hang, no crash), and the process must keep serving and stop
// cleanly.
#include <signal.h>

#include <memory>
#include <string>

#include "child_process.h"
#include "inbeeld/cli/demo_scenario.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration_support.h"

namespace inbeeld::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::ChildProcess;
using testing_util::TempDir;

TEST(IngestUnavailableTest, UnreachableBrokerGivesUnavailableAndTheProcessKeepsRunning) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto child = ChildProcess::Start(
      "inbeeld-ingest",
      {"--kafka=127.0.0.1:1", "--plaintext", "--grpc-listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0",
       "--produce-timeout=1s", "--log-level=debug", "--ready-file=" + dir.File("ingest.ready")},
      dir.File("ingest"));
  ASSERT_TRUE(child.ok()) << child.status();
  std::unique_ptr<ChildProcess> ingest = std::move(*child);
  auto ready = testing_util::WaitForReadyFile(dir.File("ingest.ready"), kReadyTimeout);
  ASSERT_TRUE(ready.ok()) << ready.status() << "\n" << ingest->Stderr();
  ASSERT_TRUE(ready->contains("grpc"));
  EXPECT_EQ((*ready)["service"], "ingest");
  auto stub = v1::MeldingService::NewStub(
      LocalChannel((*ready)["grpc"]));

  const v1::Event event = ValidVerzuimMelding(201, "unavailable-1");
  v1::MeldAntwoord resp;
  grpc::Status first = Send(*stub, event, &resp, std::chrono::seconds(10));
  EXPECT_EQ(first.error_code(), grpc::UNAVAILABLE) << first.error_code() << " " << first.error_message();
  EXPECT_TRUE(ingest->Running()) << ingest->Stderr();

  // The client's retry of the same event: still UNAVAILABLE, and in
  // particular not "duplicate" (nothing was stored the first time).
  v1::MeldAntwoord retry_resp;
  grpc::Status retry = Send(*stub, event, &retry_resp, std::chrono::seconds(10));
  EXPECT_EQ(retry.error_code(), grpc::UNAVAILABLE) << retry.error_code() << " " << retry.error_message();
  EXPECT_FALSE(retry_resp.duplicate());

  // Another event, another kind: also UNAVAILABLE.
  v1::MeldAntwoord other_resp;
  grpc::Status other = Send(*stub, ValidAdresMutatie(202, "unavailable-2"), &other_resp, std::chrono::seconds(10));
  EXPECT_EQ(other.error_code(), grpc::UNAVAILABLE) << other.error_code() << " " << other.error_message();
  EXPECT_TRUE(ingest->Running()) << ingest->Stderr();

  // Still healthy as a process (health reflects the gRPC server).
  auto health = HealthCheck(LocalChannel((*ready)["grpc"]), "");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, 1);

  ingest->Signal(SIGTERM);
  std::optional<int> code = ingest->Wait(kExitTimeout);
  ASSERT_TRUE(code.has_value()) << "inbeeld-ingest did not stop after SIGTERM";
  EXPECT_EQ(*code, 0) << ingest->Stderr();
  // The failures were logged without personal data.
  const std::string logs = ingest->Stdout() + ingest->Stderr();
  EXPECT_THAT(logs, Not(HasSubstr(cli::SyntheticBsn(201))));
  EXPECT_THAT(logs, Not(HasSubstr(cli::SyntheticBsn(202))));
}

}  // namespace
}  // namespace inbeeld::integration

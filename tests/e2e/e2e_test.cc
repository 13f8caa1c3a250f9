// The whole pipeline as it runs in production, one process per service, every
// gRPC hop over mutual TLS: a school sends verzuimmeldingen to ingest for
// jongeren in two gemeenten served by two organisations; each organisation
// subscribes to delivery with its own certificate and receives exactly the
// signals routed to it.
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "child_process.h"
#include "gtest/gtest.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "inbeeld/v1/signaal_service.grpc.pb.h"
#include "integration_support.h"
#include "inbeeld/cli/subscribe_command.h"

namespace inbeeld::e2e {
namespace {

using testing_util::ChildProcess;
using testing_util::TempDir;

// Two organisations from the deployed table (deploy/config/organisaties.csv):
// gemeente 0014 (Groningen) → rmc-3, gemeente 0034 (Almere) → rmc-18.
struct Organisatie {
  std::string id;
  std::string oin;
  std::string gemeente;
};
const Organisatie kNoord{"rmc-3", "99990000000000000003", "0014"};
const Organisatie kFlevoland{"rmc-18", "99990000000000000018", "0034"};

constexpr char kSecret[] = "e2e-pseudonym-secret";
constexpr auto kRpcDeadline = std::chrono::seconds(120);  // a hang bound only

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = dir_.File("certs");
    const std::string gen = absl::StrCat(
        testing_util::SourceDir(), "/scripts/gen-certs '", certs_, "' ", kNoord.id, ":",
        kNoord.oin, " ", kFlevoland.id, ":", kFlevoland.oin, " >/dev/null");
    ASSERT_EQ(std::system(gen.c_str()), 0) << gen;

    auto cluster = kafka::EmbeddedCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    ASSERT_TRUE(cluster_->CreateTopics(kafka::InBeeldTopics(2, 1)).ok());
    const std::string kafka = "--kafka=" + cluster_->bootstrap_servers();
    const std::vector<std::string> tls = {"--tls-cert=" + certs_ + "/server.crt",
                                          "--tls-key=" + certs_ + "/server.key",
                                          "--tls-ca=" + certs_ + "/ca.crt"};
    const std::string config_dir = testing_util::SourceDir() + "/deploy/config";
    // Signaling runs on the date of the meldingen, not on today's.
    {
      std::ofstream today(dir_.File("today"));
      today << "2025-03-10\n";
    }

    auto with_tls = [&](std::vector<std::string> args) {
      args.insert(args.end(), tls.begin(), tls.end());
      args.insert(args.end(), {kafka, "--grpc-listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0",
                               "--log-level=warn"});
      return args;
    };
    Start("inbeeld-ingest", with_tls({"--pseudonym-secret=" + std::string(kSecret)}), &ingest_);
    Start("inbeeld-signaling",
          with_tls({"--pseudonym-secret=" + std::string(kSecret), "--state-dir=" + dir_.File("signaling"),
                    "--date-file=" + dir_.File("today"), "--tick=200ms", "--group=e2e-signaling"}),
          &signaling_);
    Start("inbeeld-routing",
          with_tls({"--state-dir=" + dir_.File("routing"),
                    "--organisaties=" + config_dir + "/organisaties.csv",
                    "--herindelingen=" + config_dir + "/herindelingen.csv"}),
          &routing_);
    Start("inbeeld-delivery", with_tls({"--organisaties=" + config_dir + "/organisaties.csv"}),
          &delivery_);
  }

  void TearDown() override {
    // SIGTERM each (delivery first: nothing downstream of it) and require a
    // clean exit, as the process contract says.
    for (auto* p : {&delivery_, &routing_, &signaling_, &ingest_}) {
      if (p->process == nullptr) continue;
      p->process->Signal(SIGTERM);
      std::optional<int> code = p->process->Wait(integration::kExitTimeout);
      EXPECT_EQ(code, std::optional<int>(0)) << p->name << " stderr:\n" << p->process->Stderr();
    }
  }

  struct Service {
    std::string name;
    std::unique_ptr<ChildProcess> process;
    std::map<std::string, std::string> ready;
  };

  void Start(const std::string& binary, std::vector<std::string> args, Service* service) {
    const std::string ready = dir_.File(binary + ".ready");
    args.push_back("--ready-file=" + ready);
    service->name = binary;
    auto child = ChildProcess::Start(binary, args, dir_.File(binary));
    ASSERT_TRUE(child.ok()) << binary << ": " << child.status();
    service->process = *std::move(child);
    auto fields = testing_util::WaitForReadyFile(ready, integration::kReadyTimeout);
    ASSERT_TRUE(fields.ok()) << binary << ": " << fields.status() << "\n"
                             << service->process->Stderr();
    service->ready = *std::move(fields);
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::string& client) {
    grpc_util::TlsOptions tls;
    tls.cert_file = certs_ + "/clients/" + client + ".crt";
    tls.key_file = certs_ + "/clients/" + client + ".key";
    tls.ca_file = certs_ + "/ca.crt";
    auto credentials = grpc_util::ChannelCredentials(tls);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
    return grpc::CreateCustomChannel(address, *credentials, args);
  }

  void Meld(v1::MeldingService::Stub& stub, int seed, const std::string& id,
            const std::string& gemeente) {
    v1::Event event = integration::ValidVerzuimMelding(seed, id);
    event.mutable_verzuimmelding()->set_woongemeente(gemeente);
    v1::MeldAntwoord antwoord;
    grpc::Status status = integration::Send(stub, event, &antwoord);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Reads the organisation's stream until the VERZUIMMELDING signals for
  // every melding in `melding_ids` arrived; every signal seen must be routed
  // to this organisation.
  void ExpectOwnSignals(const Organisatie& org, const std::set<std::string>& melding_ids,
                        std::string* last_cursor) {
    auto stub = v1::SignaalService::NewStub(Channel(delivery_.ready["grpc"], org.id));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
    v1::SubscribeRequest request;
    request.set_organisatie(org.id);
    auto reader = stub->Subscribe(&context, request);
    std::set<std::string> missing = melding_ids;
    v1::SignaalBericht bericht;
    while (!missing.empty() && reader->Read(&bericht)) {
      EXPECT_EQ(bericht.signaal().organisatie(), org.id);
      EXPECT_EQ(bericht.signaal().woongemeente(), org.gemeente);
      if (bericht.signaal().soort() == v1::SIGNAAL_SOORT_VERZUIMMELDING) {
        EXPECT_EQ(melding_ids.count(bericht.signaal().melding().melding_id()), 1u)
            << "foreign melding " << bericht.signaal().melding().melding_id();
        missing.erase(bericht.signaal().melding().melding_id());
      }
      *last_cursor = bericht.cursor();
    }
    EXPECT_TRUE(missing.empty()) << org.id << " still misses " << missing.size() << " signals";
    context.TryCancel();
    reader->Finish();
  }

  TempDir dir_;
  std::string certs_;
  std::unique_ptr<kafka::EmbeddedCluster> cluster_;
  Service ingest_, signaling_, routing_, delivery_;
};

TEST_F(EndToEndTest, EachOrganisationReceivesExactlyItsOwnSignals) {
  auto ingest = v1::MeldingService::NewStub(Channel(ingest_.ready["grpc"], "school-demo"));
  Meld(*ingest, 1, "noord-1", kNoord.gemeente);
  Meld(*ingest, 2, "flevo-1", kFlevoland.gemeente);
  Meld(*ingest, 3, "noord-2", kNoord.gemeente);
  Meld(*ingest, 4, "flevo-2", kFlevoland.gemeente);

  std::string noord_cursor, flevo_cursor;
  ExpectOwnSignals(kNoord, {"noord-1", "noord-2"}, &noord_cursor);
  ExpectOwnSignals(kFlevoland, {"flevo-1", "flevo-2"}, &flevo_cursor);

  // `inbeeld subscribe` resumes after the cursor: only the new melding.
  Meld(*ingest, 5, "noord-3", kNoord.gemeente);
  std::ostringstream out, err;
  int rc = cli::SubscribeMain(
      {"--address=" + delivery_.ready["grpc"], "--organisatie=" + kNoord.id,
       "--cursor=" + noord_cursor, "--tls-cert=" + certs_ + "/clients/" + kNoord.id + ".crt",
       "--tls-key=" + certs_ + "/clients/" + kNoord.id + ".key", "--tls-ca=" + certs_ + "/ca.crt",
       "--max=1", "--timeout=120s"},
      out, err);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_NE(out.str().find("noord-3"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("noord-1"), std::string::npos) << out.str();
}

TEST_F(EndToEndTest, AnOrganisationCannotReadAnothersStream) {
  auto stub = v1::SignaalService::NewStub(Channel(delivery_.ready["grpc"], kNoord.id));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  v1::SubscribeRequest request;
  request.set_organisatie(kFlevoland.id);
  auto reader = stub->Subscribe(&context, request);
  v1::SignaalBericht bericht;
  EXPECT_FALSE(reader->Read(&bericht));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);

  auto unknown = v1::SignaalService::NewStub(Channel(delivery_.ready["grpc"], "unknown"));
  grpc::ClientContext context2;
  context2.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  auto reader2 = unknown->Subscribe(&context2, request);
  EXPECT_FALSE(reader2->Read(&bericht));
  EXPECT_EQ(reader2->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace inbeeld::e2e

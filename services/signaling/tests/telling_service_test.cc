// TellingService over mutual TLS: the live telling equals the offline one for
// the same events, and an organisation gets only its own gemeenten.
#include "inbeeld/signaling/telling_service.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"
#include "inbeeld/signaling/telling/telling.h"

namespace inbeeld::signaling {
namespace {

const std::string kBron = INBEELD_SOURCE_DIR;
const std::string kScenario = kBron + "/tests/telling/telling_2023_2024.events.jsonl";
const std::string kOrganisaties = kBron + "/deploy/config/organisaties.csv";
const std::string kHerindelingen = kBron + "/deploy/config/herindelingen.csv";

class VasteDatum final : public DateSource {
 public:
  explicit VasteDatum(absl::CivilDay d) : d_(d) {}
  absl::CivilDay Today() const override { return d_; }

 private:
  absl::CivilDay d_;
};

std::string Lees(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Certificates for rmc-21 and rmc-29 with the OINs of deploy/config (and
// gen-certs' "unknown" one), a fresh store filled the way the service fills
// it (Jongere::Apply + AdvanceTo per event day, over several partitions), a
// TLS server with the TellingService. Everything removed afterwards.
class TellingServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "inbeeld-telling-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = new std::string(tmpl);
    const std::string cmd = kBron + "/scripts/gen-certs '" + *dir_ +
                            "/certs' rmc-21:99990000000000000021 rmc-29:99990000000000000029 >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    std::filesystem::remove_all(*dir_, ignored);
    delete dir_;
  }

  void SetUp() override {
    auto store = SignalingStore::Open(*dir_ + "/state-" + ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                                      false);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    Vul();
    auto tabel = routing::OrganisatieTabel::Load(kOrganisaties, kHerindelingen);
    ASSERT_TRUE(tabel.ok()) << tabel.status();
    tabel_ = std::make_shared<const routing::OrganisatieTabel>(*std::move(tabel));
    auto id = delivery::OrganisatieIdentiteit::LoadCsv(kOrganisaties);
    ASSERT_TRUE(id.ok()) << id.status();
    identiteit_ = std::make_shared<const delivery::OrganisatieIdentiteit>(*std::move(id));
    service_ = std::make_unique<TellingServiceImpl>(*store_, tabel_, identiteit_, datum_, CoreConfig(), false);
    grpc_util::TlsOptions tls{false, Certs() + "/server.crt", Certs() + "/server.key", Certs() + "/ca.crt", true};
    auto server = grpc_util::Server::Start("127.0.0.1:0", tls, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(1));
  }

  static std::string Certs() { return *dir_ + "/certs"; }

  // The scenario's events into the store, as the service applies them.
  void Vul() {
    auto pseudo = identity::Pseudonymizer::Create(std::string(identity::Pseudonymizer::kDevelopmentSecret));
    ASSERT_TRUE(pseudo.ok());
    std::map<std::string, std::vector<v1::Event>> per;
    std::istringstream in(Lees(kScenario));
    for (std::string l; std::getline(in, l);) {
      if (l.empty()) continue;
      v1::Event e;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(l, &e).ok());
      per[pseudo->Of(*LeerlingVan(e))].push_back(e);
    }
    StoreBatch batch;
    int32_t partition = 0;
    for (auto& [p, events] : per) {
      std::stable_sort(events.begin(), events.end(),
                       [](const v1::Event& a, const v1::Event& b) { return *DatumVan(a) < *DatumVan(b); });
      Jongere j;
      for (const v1::Event& e : events) {
        j.Apply(e, p, CoreConfig());
        j.AdvanceTo(*DatumVan(e), p, CoreConfig());
      }
      j.AdvanceTo(absl::CivilDay(2024, 8, 14), p, CoreConfig());
      batch.PutJongere(partition++ % 3, p, j.state());
    }
    ASSERT_TRUE(store_->Commit(batch).ok());
  }

  grpc::Status Vraag(const std::string& org, const v1::TellingRequest& req, v1::TellingResponse* resp) {
    grpc_util::TlsOptions tls{false, Certs() + "/clients/" + org + ".crt", Certs() + "/clients/" + org + ".key",
                              Certs() + "/ca.crt", true};
    auto creds = grpc_util::ChannelCredentials(tls);
    EXPECT_TRUE(creds.ok());
    auto stub = v1::TellingService::NewStub(grpc::CreateChannel(server_->address(), *creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return stub->Telling(&ctx, req, resp);
  }

  static v1::TellingRequest Req(const std::string& jaar, std::vector<std::string> gemeenten = {},
                                const std::string& org = "") {
    v1::TellingRequest r;
    r.set_schooljaar(jaar);
    for (const std::string& g : gemeenten) r.add_gemeenten(g);
    r.set_organisatie(org);
    return r;
  }

  static std::string* dir_;
  VasteDatum datum_{absl::CivilDay(2024, 8, 15)};
  std::unique_ptr<SignalingStore> store_;
  std::shared_ptr<const routing::OrganisatieTabel> tabel_;
  std::shared_ptr<const delivery::OrganisatieIdentiteit> identiteit_;
  std::unique_ptr<TellingServiceImpl> service_;
  std::unique_ptr<grpc_util::Server> server_;
};
std::string* TellingServiceTest::dir_ = nullptr;

TEST_F(TellingServiceTest, LiveGelijkAanOffline) {
  for (const std::string org : {"rmc-21", "rmc-29"}) {
    v1::TellingResponse live;
    ASSERT_TRUE(Vraag(org, Req("2023-2024"), &live).ok());
    TellingBestandOptions o;
    o.jaar = *Schooljaar::Parse("2023-2024");
    o.filter.organisatie = org;
    std::istringstream in(Lees(kScenario));
    auto offline = TellingUitBestand(in, *tabel_, o, nullptr);
    ASSERT_TRUE(offline.ok());
    EXPECT_EQ(TellingCsv(live, false), TellingCsv(*offline, false)) << org;
    EXPECT_EQ(TellingJson(live), TellingJson(*offline)) << org;
    // Only its own gemeenten and organisation.
    for (const v1::TellingRij& r : live.gemeenten()) EXPECT_EQ(r.organisatie(), org) << r.gemeentecode();
    ASSERT_EQ(live.organisaties_size(), 1);
    EXPECT_EQ(live.organisaties(0).organisatie(), org);
  }
  // Hand-computed figure for a spot check: j7 in Voorne aan Zee (rmc-29).
  v1::TellingResponse r;
  ASSERT_TRUE(Vraag("rmc-29", Req("2023-2024", {"1992"}), &r).ok());
  ASSERT_EQ(r.gemeenten_size(), 1);
  EXPECT_EQ(r.gemeenten(0).cijfers().at("av_open_31_juli"), 1u);
}

// The CLI's client form prints what the offline form prints.
TEST_F(TellingServiceTest, CliClientGelijkAanOffline) {
  std::ostringstream live_out, live_err, off_out, off_err;
  ASSERT_EQ(TellingMain({"--address=" + server_->address(), "--schooljaar=2023-2024",
                         "--tls-cert=" + Certs() + "/clients/rmc-21.crt", "--tls-key=" + Certs() + "/clients/rmc-21.key",
                         "--tls-ca=" + Certs() + "/ca.crt"},
                        live_out, live_err),
            0)
      << live_err.str();
  ASSERT_EQ(TellingMain({kScenario, "--schooljaar=2023-2024", "--organisatie=rmc-21", "--config-dir=" + kBron + "/deploy/config"}, off_out, off_err), 0)
      << off_err.str();
  EXPECT_EQ(live_out.str(), off_out.str());
  EXPECT_NE(live_out.str().find("\n2023-2024,2024-07-31,0363,rmc-21,5,1,4,"), std::string::npos);

  std::ostringstream o2, e2;
  EXPECT_EQ(TellingMain({"--address=" + server_->address(), "--schooljaar=2023-2024", "--gemeente=0599",
                         "--tls-cert=" + Certs() + "/clients/rmc-21.crt", "--tls-key=" + Certs() + "/clients/rmc-21.key",
                         "--tls-ca=" + Certs() + "/ca.crt"},
                        o2, e2),
            1);
  EXPECT_NE(e2.str().find("not one of organisation rmc-21"), std::string::npos) << e2.str();
}

TEST_F(TellingServiceTest, AndermansGemeenteOfOrganisatieGeweigerd) {
  v1::TellingResponse r;
  grpc::Status s = Vraag("rmc-21", Req("2023-2024", {"0599"}), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  s = Vraag("rmc-21", Req("2023-2024", {"0363", "1992"}), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = Vraag("rmc-21", Req("2023-2024", {}, "rmc-29"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = Vraag("rmc-29", Req("2023-2024", {"0363"}), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Its own: fine.
  EXPECT_TRUE(Vraag("rmc-21", Req("2023-2024", {"0363"}, "rmc-21"), &r).ok());
  // A certificate whose OIN no table knows.
  s = Vraag("unknown", Req("2023-2024"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
}

TEST_F(TellingServiceTest, FouteInvoer) {
  v1::TellingResponse r;
  grpc::Status s = Vraag("rmc-21", Req("2023-2025"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("consecutive"), std::string::npos);
  s = Vraag("rmc-21", Req("2023-2024", {"9999"}), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("unknown gemeente 9999"), std::string::npos);
  s = Vraag("rmc-21", Req("2023-2024", {}, "nergens"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = Vraag("rmc-21", Req("2025-2026"), &r);  // "today" is 2024-08-15
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace inbeeld::signaling

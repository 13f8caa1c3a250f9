#include "inbeeld/cli/status_command.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/v1/leerplicht_service.grpc.pb.h"

namespace inbeeld::cli {
namespace {

constexpr char kBsn[] = "111222333";
constexpr char kOnderwijsnummer[] = "100000004";

// A LeerplichtService that answers from a fixed response (NOT_FOUND for an
// empty one) and remembers the last request.
class FakeLeerplichtService final : public v1::LeerplichtService::Service {
 public:
  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest* request,
                      v1::StatusResponse* response) override {
    absl::MutexLock lock(&mu_);
    last_ = *request;
    if (answer_.status() == v1::PLICHTSTATUS_UNSPECIFIED) {
      return grpc::Status(grpc::NOT_FOUND, "no events about this leerling are known here");
    }
    *response = answer_;
    return grpc::Status::OK;
  }
  void Answer(const v1::StatusResponse& r) {
    absl::MutexLock lock(&mu_);
    answer_ = r;
  }
  v1::StatusRequest last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }

 private:
  absl::Mutex mu_;
  v1::StatusResponse answer_ ABSL_GUARDED_BY(mu_);
  v1::StatusRequest last_ ABSL_GUARDED_BY(mu_);
};

class StatusCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc_util::TlsOptions plaintext;
    plaintext.plaintext = true;
    auto server = grpc_util::Server::Start("127.0.0.1:0", plaintext, {&service_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    v1::StatusResponse r;
    r.set_status(v1::PLICHTSTATUS_LEERPLICHTIG);
    r.set_regel("leerplicht.art3_lid1");
    r.set_artikel("Leerplichtwet 1969 art. 3 lid 1");
    r.set_peildatum("2026-11-30");
    r.set_leerplicht_van("2020-10-01");
    r.set_leerplicht_tot("2032-07-31");
    r.set_absoluut_verzuim(true);
    v1::OpenZaak* zaak = r.add_open_zaken();
    zaak->set_soort(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
    zaak->set_signaal_id("0123456789abcdef0123456789abcdef");
    zaak->set_begindatum("2026-10-01");
    zaak->set_woongemeente("0363");
    v1::SignaalOverzicht* signaal = r.add_laatste_signalen();
    signaal->set_signaal_id("0123456789abcdef0123456789abcdef");
    signaal->set_soort(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
    signaal->set_peildatum("2026-10-08");
    signaal->set_woongemeente("0363");
    service_.Answer(r);
  }

  int Run(std::vector<std::string> args, const std::string& stdin_text) {
    args.push_back("--address=" + server_->address());
    std::istringstream in(stdin_text);
    out_.str("");
    err_.str("");
    return StatusMain(args, in, out_, err_);
  }

  FakeLeerplichtService service_;
  std::unique_ptr<grpc_util::Server> server_;
  std::ostringstream out_, err_;
};

TEST_F(StatusCommandTest, IdentityFromStdinPrintsText) {
  ASSERT_EQ(Run({"--plaintext", "--peildatum", "2026-11-30"}, std::string(kBsn) + "\n"), 0) << err_.str();
  EXPECT_EQ(service_.last().leerling().bsn(), kBsn);
  EXPECT_EQ(service_.last().peildatum(), "2026-11-30");
  const std::string text = out_.str();
  EXPECT_NE(text.find("plichtstatus:        leerplichtig"), std::string::npos) << text;
  EXPECT_NE(text.find("Leerplichtwet 1969 art. 3 lid 1"), std::string::npos) << text;
  EXPECT_NE(text.find("2020-10-01 t/m 2032-07-31"), std::string::npos) << text;
  EXPECT_NE(text.find("open situaties:      absoluut verzuim"), std::string::npos) << text;
  EXPECT_NE(text.find("open zaken:          \n  ABSOLUUT_VERZUIM sinds 2026-10-01, woongemeente 0363, signaal "
                      "0123456789abcdef0123456789abcdef\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("laatste signalen:    \n  2026-10-08  ABSOLUUT_VERZUIM, woongemeente 0363"), std::string::npos)
      << text;
  EXPECT_EQ(text.find(kBsn), std::string::npos) << "the identity is not printed";
}

TEST_F(StatusCommandTest, IdentityFileWithOnderwijsnummerPrintsJson) {
  ASSERT_TRUE(identity::IsValidOnderwijsnummer(kOnderwijsnummer));
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("inbeeld_status_test_" + std::to_string(getpid()));
  std::ofstream(file) << kOnderwijsnummer << "\n";
  const int rc = Run({"--plaintext", "--json", "--identity-file", file.string()}, "");
  std::filesystem::remove(file);
  ASSERT_EQ(rc, 0) << err_.str();
  EXPECT_EQ(service_.last().leerling().onderwijsnummer(), kOnderwijsnummer);
  EXPECT_EQ(service_.last().peildatum(), "");
  EXPECT_NE(out_.str().find("\"status\":\"PLICHTSTATUS_LEERPLICHTIG\""), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("\"absoluutVerzuim\":true"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("\"uitBeeld\":false"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("\"openZaken\":[{\"soort\":\"SIGNAAL_SOORT_ABSOLUUT_VERZUIM\""), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("\"laatsteSignalen\":[{"), std::string::npos) << out_.str();
}

TEST_F(StatusCommandTest, InvalidIdentityIsAUsageErrorThatDoesNotEchoIt) {
  for (const char* identity : {"123456789", "12345", "", "abcdefghi"}) {
    EXPECT_EQ(Run({"--plaintext"}, identity), 2) << identity;
    EXPECT_NE(err_.str().find("not a valid BSN or onderwijsnummer"), std::string::npos) << err_.str();
    if (*identity != '\0') {
      EXPECT_EQ(err_.str().find(identity), std::string::npos) << err_.str();
    }
  }
}

TEST_F(StatusCommandTest, NotFoundIsExitOneWithTheStatus) {
  service_.Answer(v1::StatusResponse());
  EXPECT_EQ(Run({"--plaintext"}, kBsn), 1);
  EXPECT_NE(err_.str().find("NOT_FOUND"), std::string::npos) << err_.str();
  EXPECT_EQ(err_.str().find(kBsn), std::string::npos) << err_.str();
}

TEST(StatusCommandUsageTest, UnavailableIsExitOne) {
  std::istringstream in(kBsn);
  std::ostringstream out, err;
  EXPECT_EQ(StatusMain({"--address=127.0.0.1:1", "--plaintext", "--timeout=2s"}, in, out, err), 1);
  EXPECT_NE(err.str().find("UNAVAILABLE"), std::string::npos) << err.str();
}

TEST(StatusCommandUsageTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},  // neither TLS files nor --plaintext
           {"--plaintext", kBsn},  // the identity on the command line is refused
           {"--plaintext", "--bsn=111222333"},
           {"--plaintext", "--peildatum=2026-02-30"},
           {"--plaintext", "--identity-file=/nonexistent/inbeeld-identity"}}) {
    std::istringstream in(kBsn);
    std::ostringstream out, err;
    EXPECT_EQ(StatusMain(args, in, out, err), 2) << ::testing::PrintToString(args);
    EXPECT_EQ(err.str().find(kBsn), std::string::npos) << err.str();
  }
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(StatusMain({"--help"}, in, out, err), 0);
  EXPECT_NE(out.str().find("INBEELD_TLS_CA"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace inbeeld::cli

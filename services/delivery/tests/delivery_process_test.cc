// The inbeeld-delivery binary against the process contract (TEAM.md): flags,
// ready file, mutual TLS, SIGTERM → exit 0. Uses the embedded cluster, which
// other processes reach over TCP.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/signaal.pb.h"
#include "inbeeld/cli/subscribe_command.h"
#include "test_certs.h"

extern char** environ;

namespace inbeeld::delivery {
namespace {

using testing::Certs;
using testing::kOrgA;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "inbeeld-delivery-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Kills the child on every exit path of the test.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // Sends SIGTERM and returns the wait status.
  int Terminate() {
    int status = -1;
    kill(pid_, SIGTERM);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

TEST(DeliveryProcessTest, ServesOverMutualTlsAndStopsOnSigterm) {
  auto cluster = kafka::EmbeddedCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopics({{std::string(kafka::kTopicAflevering), 2, 1, false}}).ok());
  kafka::ClientOptions kafka_options;
  kafka_options.bootstrap_servers = (*cluster)->bootstrap_servers();
  auto producer = kafka::Producer::Create(kafka_options);
  ASSERT_TRUE(producer.ok()) << producer.status();
  v1::Signaal signaal;
  signaal.set_signaal_id("proc-1");
  signaal.set_organisatie(kOrgA);
  auto report = (*producer)->ProduceSync(
      {std::string(kafka::kTopicAflevering), kafka::kAnyPartition, kOrgA,
       signaal.SerializeAsString(), {}},
      absl::Seconds(30));
  ASSERT_TRUE(report.ok() && report->status.ok());

  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string table = dir.path() + "/organisaties.csv";
  std::ofstream(table) << testing::OrganisatieTabelCsv();
  const std::string ready = dir.path() + "/ready.json";
  Child child({INBEELD_DELIVERY_BINARY, "--kafka=" + kafka_options.bootstrap_servers,
               "--grpc-listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0",
               "--ready-file=" + ready, "--organisaties=" + table,
               "--tls-cert=" + Certs().server_cert, "--tls-key=" + Certs().server_key,
               "--tls-ca=" + Certs().ca});
  ASSERT_GT(child.pid(), 0);
  // Waits for readiness (bounded only as a safety net against a hang).
  for (int i = 0; i < 30'000 && !std::filesystem::exists(ready); ++i) {
    ASSERT_EQ(waitpid(child.pid(), nullptr, WNOHANG), 0) << "inbeeld-delivery exited early";
    absl::SleepFor(absl::Milliseconds(1));
  }
  std::string json = testing::ReadTextFile(ready);
  std::smatch match;
  ASSERT_TRUE(std::regex_search(json, match, std::regex("\"grpc\":\"([^\"]+)\""))) << json;
  const std::string address = match[1];
  EXPECT_NE(json.find("\"service\":\"delivery\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"metrics\":\""), std::string::npos) << json;

  std::ostringstream out, err;
  int rc = cli::SubscribeMain({"--address=" + address, std::string("--organisatie=") + kOrgA,
                               "--tls-cert=" + Certs().Cert(kOrgA),
                               "--tls-key=" + Certs().Key(kOrgA), "--tls-ca=" + Certs().ca,
                               "--max=1", "--timeout=60s"},
                              out, err);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_NE(out.str().find("\"signaalId\":\"proc-1\""), std::string::npos) << out.str();

  int status = child.Terminate();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(DeliveryProcessTest, RefusesToStartWithoutTlsOrPlaintext) {
  TempDir dir;
  const std::string table = dir.path() + "/organisaties.csv";
  std::ofstream(table) << testing::OrganisatieTabelCsv();
  Child child({INBEELD_DELIVERY_BINARY, "--kafka=127.0.0.1:1", "--organisaties=" + table});
  ASSERT_GT(child.pid(), 0);
  int status = -1;
  waitpid(child.pid(), &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace inbeeld::delivery

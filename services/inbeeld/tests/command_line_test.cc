// Process level: every binary answers -h/--help with exit 0 and a flag list
// naming the INBEELD_* variables, and refuses unknown flags, stray arguments
// and malformed values with exit 2 and a hint, before starting anything.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "child_process.h"
#include "gtest/gtest.h"

namespace inbeeld {
namespace {

using testing_util::BinDir;
using testing_util::ChildProcess;
using testing_util::TempDir;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

Outcome RunBinary(const std::string& binary, const std::vector<std::string>& args) {
  TempDir dir;
  auto child = ChildProcess::Start(binary, args, dir.File("log"));
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return {};
  std::optional<int> code = (*child)->Wait(absl::Seconds(20));
  EXPECT_TRUE(code.has_value()) << binary << " did not exit";
  return {code.value_or(-1), (*child)->Stdout(), (*child)->Stderr()};
}

// Each binary (with its subcommand, if any) and one of its own flags.
struct Command {
  std::string binary;
  std::vector<std::string> prefix;
  std::string own_flag;  // shown in --help with its INBEELD_* variable
  std::string int_flag;  // an integer flag, for a malformed value
};

std::vector<Command> Commands() {
  std::vector<Command> all = {
      {"inbeeld-ingest", {}, "--dedup-window", "--dedup-window"},
      {"inbeeld-signaling", {}, "--grace-days", "--grace-days"},
      {"inbeeld-routing", {}, "--batch-size", "--batch-size"},
      {"inbeeld-delivery", {}, "--buffer-size", "--buffer-size"},
      {"inbeeld", {"run"}, "--ready-file", "--partitions"},
      {"inbeeld", {"subscribe"}, "--organisatie", "--max"},
      {"inbeeld", {"replay"}, "--until", ""},
      {"inbeeld", {"meld"}, "--streams", "--streams"},
      {"inbeeld", {"status"}, "--identity-file", ""},
      {"inbeeld", {"telling"}, "--schooljaar", ""},
  };
  std::vector<Command> present;
  for (const Command& c : all) {
    if (std::filesystem::exists(BinDir() + "/" + c.binary)) present.push_back(c);
  }
  return present;
}

std::vector<std::string> With(const Command& c, std::vector<std::string> args) {
  std::vector<std::string> all = c.prefix;
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

std::string Name(const Command& c) { return c.binary + (c.prefix.empty() ? "" : " " + c.prefix[0]); }

TEST(CommandLineTest, EveryBinaryIsBuilt) {
  EXPECT_GE(Commands().size(), 5u) << "binaries missing in " << BinDir();
}

TEST(CommandLineTest, HelpExitsZeroAndListsFlagsWithEnvironment) {
  for (const Command& c : Commands()) {
    for (const char* help : {"-h", "--help"}) {
      Outcome o = RunBinary(c.binary, With(c, {help}));
      EXPECT_EQ(o.exit_code, 0) << Name(c) << " " << help << "\n" << o.err;
      EXPECT_NE(o.out.find(c.own_flag), std::string::npos) << Name(c) << "\n" << o.out;
      EXPECT_NE(o.out.find("(Env:INBEELD_"), std::string::npos) << Name(c) << "\n" << o.out;
    }
  }
}

TEST(CommandLineTest, UsageErrorsExitTwoWithAHint) {
  for (const Command& c : Commands()) {
    std::vector<std::vector<std::string>> bad = {{"--no-such-flag=1"}, {"--plaintext=maybe"}};
    if (c.prefix.empty() || c.prefix[0] != "replay") bad.push_back({"stray"});
    if (!c.int_flag.empty()) bad.push_back({c.int_flag + "=abc"});
    if (c.prefix.empty() || c.prefix[0] == "run") bad.push_back({"--ready-file"});  // value missing
    for (const auto& args : bad) {
      Outcome o = RunBinary(c.binary, With(c, args));
      EXPECT_EQ(o.exit_code, 2) << Name(c) << " " << ::testing::PrintToString(args) << "\n" << o.err;
      EXPECT_NE(o.err.find("--help"), std::string::npos) << Name(c) << "\n" << o.err;
    }
  }
}

TEST(CommandLineTest, InbeeldWithoutOrWithAnUnknownCommand) {
  EXPECT_EQ(RunBinary("inbeeld", {}).exit_code, 2);
  Outcome unknown = RunBinary("inbeeld", {"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command frobnicate"), std::string::npos) << unknown.err;
  Outcome help = RunBinary("inbeeld", {"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"run", "replay", "meld", "subscribe", "telling", "status"}) {
    EXPECT_NE(help.out.find(command), std::string::npos) << help.out;
  }
}

// One exit-code contract for all five binaries (docs/OPERATIONS.md "Exit
// codes"): 0 ok, 1 runtime failure, 2 usage or configuration error.
struct ExitCase {
  std::string binary;
  std::vector<std::string> args;
  int code;
  std::string why;
};

// A port that is in use while the test runs (a runtime failure, not a
// configuration error).
class BusyPort {
 public:
  BusyPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 && listen(fd_, 1) == 0 &&
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port_ = ntohs(addr.sin_port);
    }
  }
  ~BusyPort() { close(fd_); }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(ExitCodeTest, EveryBinaryFollowsTheContract) {
  TempDir dir;
  const std::string missing = dir.File("missing");
  BusyPort busy;
  const std::string metrics_busy = "--metrics-listen=" + busy.Address();
  const std::vector<std::string> tls_missing = {"--tls-cert=server.crt", "--tls-key=server.key", "--tls-ca=ca.crt",
                                                "--config-dir=" + missing};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const std::vector<ExitCase> cases = {
      // --help: 0.
      {"inbeeld-ingest", {"--help"}, 0, "help"},
      {"inbeeld-signaling", {"-h"}, 0, "help"},
      {"inbeeld-routing", {"--help"}, 0, "help"},
      {"inbeeld-delivery", {"--help"}, 0, "help"},
      {"inbeeld", {"--help"}, 0, "help"},
      // Usage: unknown flag, malformed value.
      {"inbeeld-ingest", {"--no-such-flag"}, 2, "unknown flag"},
      {"inbeeld-signaling", {"--no-such-flag=1"}, 2, "unknown flag"},
      {"inbeeld-routing", {"--no-such-flag", "x"}, 2, "unknown flag"},
      {"inbeeld-delivery", {"--no-such-flag"}, 2, "unknown flag"},
      {"inbeeld", {"run", "--no-such-flag"}, 2, "unknown flag"},
      {"inbeeld-delivery", {"--buffer-size=abc"}, 2, "malformed integer"},
      {"inbeeld-delivery", {"--plaintext=maybe"}, 2, "malformed switch"},
      {"inbeeld-ingest", {"--dedup-window", "abc"}, 2, "malformed integer"},
      {"inbeeld-ingest", {"--plaintext=maybe"}, 2, "malformed switch"},
      {"inbeeld-signaling", {"--tick=soon"}, 2, "malformed duration"},
      {"inbeeld-signaling", {"--plaintext=maybe"}, 2, "malformed switch"},
      {"inbeeld-routing", {"--batch-size=abc", "--kafka=127.0.0.1:1"}, 2, "malformed integer"},
      {"inbeeld-routing", {"--plaintext=maybe"}, 2, "malformed switch"},
      {"inbeeld", {"run", "--partitions=abc"}, 2, "malformed integer"},
      {"inbeeld", {"run", "--demo=maybe"}, 2, "malformed switch"},
      // Configuration: a file or directory that is not there.
      {"inbeeld-ingest", with({"--kafka=127.0.0.1:1"}, tls_missing), 2, "TLS files missing"},
      {"inbeeld-signaling", with({"--kafka=127.0.0.1:1"}, tls_missing), 2, "TLS files missing"},
      {"inbeeld-delivery", tls_missing, 2, "TLS files missing"},
      {"inbeeld-signaling", {"--plaintext", "--config-dir=" + missing}, 2, "organisation table missing"},
      {"inbeeld-routing", {"--kafka=127.0.0.1:1", "--config-dir=" + missing}, 2, "organisation table missing"},
      {"inbeeld-delivery", {"--plaintext", "--organisaties=" + missing + ".csv"}, 2, "organisation table missing"},
      {"inbeeld-signaling", {"--plaintext", "--data-dir=" + missing}, 2, "data directory missing"},
      {"inbeeld-routing", {"--kafka=127.0.0.1:1", "--data-dir=" + missing}, 2, "data directory missing"},
      {"inbeeld", {"run", "--config-dir=" + missing}, 2, "config directory missing"},
      {"inbeeld", {"telling", "-", "--schooljaar=2025-2026", "--organisaties=" + missing}, 2, "table missing"},
      // Runtime: configured correctly, then a port in use.
      {"inbeeld-ingest", {"--plaintext", "--grpc-listen=127.0.0.1:0", metrics_busy}, 1, "port in use"},
      {"inbeeld-signaling", {"--plaintext", "--grpc-listen=127.0.0.1:0", "--state-dir=" + dir.File("s"), metrics_busy},
       1, "port in use"},
      {"inbeeld-routing", {"--kafka=127.0.0.1:1", "--state-dir=" + dir.File("r"), metrics_busy}, 1, "port in use"},
      {"inbeeld-delivery", {"--plaintext", "--grpc-listen=127.0.0.1:0", metrics_busy}, 1, "port in use"},
  };
  for (const ExitCase& c : cases) {
    if (!std::filesystem::exists(BinDir() + "/" + c.binary)) continue;
    Outcome o = RunBinary(c.binary, c.args);
    EXPECT_EQ(o.exit_code, c.code) << c.binary << " " << ::testing::PrintToString(c.args) << " (" << c.why
                                   << ")\n" << o.err;
  }
}

// inbeeld run passes the development secret explicitly: the services still
// warn about it.
TEST(ExitCodeTest, DevelopmentPseudonymSecretIsLogged) {
  for (const std::vector<std::string>& secret :
       std::vector<std::vector<std::string>>{{}, {"--pseudonym-secret=inbeeld-development-secret-do-not-use-in-production"}}) {
    for (const std::string binary : {"inbeeld-ingest", "inbeeld-signaling"}) {
      TempDir dir;
      std::vector<std::string> args = {"--plaintext", "--kafka=127.0.0.1:1", "--grpc-listen=127.0.0.1:0",
                                        "--metrics-listen=127.0.0.1:0", "--ready-file=" + dir.File("ready"),
                                        "--data-dir=" + dir.path()};
      args.insert(args.end(), secret.begin(), secret.end());
      auto child = ChildProcess::Start(binary, args, dir.File("log"));
      ASSERT_TRUE(child.ok()) << child.status();
      auto ready = testing_util::WaitForReadyFile(dir.File("ready"), absl::Seconds(30));
      ASSERT_TRUE(ready.ok()) << binary << ": " << ready.status() << "\n" << (*child)->Stderr();
      (*child)->Signal(SIGTERM);
      EXPECT_EQ((*child)->Wait(absl::Seconds(20)), 0) << binary;
      EXPECT_NE((*child)->Stderr().find("development pseudonym secret"), std::string::npos)
          << binary << "\n" << (*child)->Stderr();
      if (binary == "inbeeld-signaling") {
        EXPECT_TRUE(std::filesystem::is_directory(dir.File("signaling"))) << "state in <data-dir>/signaling";
      }
    }
  }
}

}  // namespace
}  // namespace inbeeld

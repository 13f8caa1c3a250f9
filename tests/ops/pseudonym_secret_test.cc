// A pseudonym secret that is configured but empty or short must stop a
// service at start-up (exit 2, a clear message on stderr): every pseudonym in
// Kafka keys and state derives from it, and a short key makes the BSN space
// brute-forceable. An empty INBEELD_PSEUDONYM_SECRET (an unfilled Kubernetes
// secret) must never fall back to the development secret.
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "child_process.h"
#include "gtest/gtest.h"

namespace inbeeld::ops_test {
namespace {

using testing_util::ChildProcess;
using testing_util::TempDir;

struct SecretCase {
  std::string name;
  std::optional<std::string> env;   // INBEELD_PSEUDONYM_SECRET, nullopt = unset
  std::optional<std::string> flag;  // --pseudonym-secret=...
  std::string expected_message;
};

// Readable parameter names in ctest output (and no secret bytes).
void PrintTo(const SecretCase& c, std::ostream* os) { *os << c.name; }

class PseudonymSecretTest
    : public ::testing::TestWithParam<std::tuple<std::string, SecretCase>> {};

TEST_P(PseudonymSecretTest, RefusesToStartWithExitCode2) {
  const auto& [service, c] = GetParam();
  TempDir tmp;
  std::vector<std::string> args = {"--kafka=127.0.0.1:1", "--grpc-listen=127.0.0.1:0",
                                   "--metrics-listen=127.0.0.1:0", "--plaintext",
                                   "--ready-file=" + tmp.File("ready")};
  if (service == "signaling") args.push_back("--state-dir=" + tmp.File("state"));
  if (c.flag) args.push_back("--pseudonym-secret=" + *c.flag);
  // The child inherits the environment at fork time; restore it right after.
  if (c.env) {
    setenv("INBEELD_PSEUDONYM_SECRET", c.env->c_str(), 1);
  } else {
    unsetenv("INBEELD_PSEUDONYM_SECRET");
  }
  auto child = ChildProcess::Start("inbeeld-" + service, args, tmp.File(service));
  unsetenv("INBEELD_PSEUDONYM_SECRET");
  ASSERT_TRUE(child.ok()) << child.status();
  auto code = (*child)->Wait(absl::Seconds(10));
  ASSERT_TRUE(code.has_value()) << "still running: the secret was accepted\n" << (*child)->Stderr();
  EXPECT_EQ(*code, 2) << (*child)->Stderr();
  const std::string err = (*child)->Stderr();
  EXPECT_NE(err.find(c.expected_message), std::string::npos) << err;
  EXPECT_NE(err.find("\"level\":\"error\""), std::string::npos) << err;
  if (c.env && !c.env->empty()) {
    EXPECT_EQ(err.find(*c.env), std::string::npos) << "secret leaked: " << err;
  }
  if (c.flag && !c.flag->empty()) {
    EXPECT_EQ(err.find(*c.flag), std::string::npos) << "secret leaked: " << err;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.File("ready")));
}

const SecretCase kCases[] = {
    {"EmptyEnv", "", std::nullopt, "INBEELD_PSEUDONYM_SECRET / --pseudonym-secret is set but empty"},
    {"EmptyFlag", std::nullopt, "", "INBEELD_PSEUDONYM_SECRET / --pseudonym-secret is set but empty"},
    // The command line wins over the environment, also when it is empty.
    {"EmptyFlagOverValidEnv", "ops-test-secret-0123456789abcdef", "",
     "INBEELD_PSEUDONYM_SECRET / --pseudonym-secret is set but empty"},
    {"ShortEnv", "short-secret", std::nullopt, "pseudonym secret must be at least 16 bytes"},
};

INSTANTIATE_TEST_SUITE_P(
    Services, PseudonymSecretTest,
    ::testing::Combine(::testing::Values("ingest", "signaling"), ::testing::ValuesIn(kCases)),
    [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param).name; });

}  // namespace
}  // namespace inbeeld::ops_test

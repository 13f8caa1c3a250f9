#include "inbeeld/cli/subscribe_command.h"

#include <sstream>

#include "gtest/gtest.h"

namespace inbeeld::cli {
namespace {

TEST(SubscribeCommandTest, UsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                                    // no address
      {"--address=127.0.0.1:1"},                             // no organisatie
      {"--address=127.0.0.1:1", "--organisatie=x"},          // no TLS and no --plaintext
      {"--address=127.0.0.1:1", "--organisatie=x", "--plaintext", "--max=x"},
      {"--address=127.0.0.1:1", "--organisatie=x", "--plaintext", "--timeout=soon"},
      {"--address=127.0.0.1:1", "--organisatie=x", "--plaintext", "--bogus=1"},
      {"--address=127.0.0.1:1", "--organisatie=x", "--plaintext", "stray"},
      {"--address", "127.0.0.1:1", "--organisatie", "x", "--plaintext=maybe"},
  };
  for (const auto& args : cases) {
    std::ostringstream out, err;
    EXPECT_EQ(SubscribeMain(args, out, err), 2) << ::testing::PrintToString(args);
    EXPECT_NE(err.str().find("inbeeld subscribe"), std::string::npos);
    EXPECT_TRUE(out.str().empty());
  }
}

TEST(SubscribeCommandTest, HelpListsFlagsAndExitsZero) {
  std::ostringstream out, err;
  EXPECT_EQ(SubscribeMain({"--help"}, out, err), 0);
  EXPECT_NE(out.str().find("--organisatie"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("INBEELD_TLS_CA"), std::string::npos) << out.str();
}

TEST(SubscribeCommandTest, UnreachableServerRetriesUntilTimeout) {
  std::ostringstream out, err;
  // Port 1 refuses connections: UNAVAILABLE, retried until --timeout.
  int rc = SubscribeMain({"--address=127.0.0.1:1", "--organisatie=x", "--plaintext", "--max=1",
                          "--timeout=1s"},
                         out, err);
  EXPECT_EQ(rc, 3) << err.str();
}

}  // namespace
}  // namespace inbeeld::cli

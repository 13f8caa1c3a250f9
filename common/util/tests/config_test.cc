#include "inbeeld/util/config.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace inbeeld::util {
namespace {

TEST(ConfigTest, ParsesFlagsInBothForms) {
  auto c = Config::Parse({"run", "--kafka=a:1", "--port=5", "--plaintext", "file.jsonl"},
                         {"kafka", "port", "plaintext"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->GetString("kafka", ""), "a:1");
  EXPECT_EQ(*c->GetInt("port", 0), 5);
  EXPECT_TRUE(*c->GetBool("plaintext", false));
  EXPECT_EQ(c->positional(), (std::vector<std::string>{"run", "file.jsonl"}));
}

TEST(ConfigTest, UnknownFlagIsAnError) {
  auto c = Config::Parse({"--kafak=a:1"}, {"kafka"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--kafak"), std::string::npos);
}

TEST(ConfigTest, EnvironmentIsOverriddenByCommandLine) {
  setenv("INBEELD_GRPC_LISTEN", "env:1", 1);
  auto from_env = Config::Parse(std::vector<std::string>{}, {"grpc-listen"});
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->GetString("grpc-listen", ""), "env:1");
  auto from_flag = Config::Parse({"--grpc-listen=flag:2"}, {"grpc-listen"});
  EXPECT_EQ(from_flag->GetString("grpc-listen", ""), "flag:2");
  unsetenv("INBEELD_GRPC_LISTEN");
}

TEST(ConfigTest, TypedGettersRejectBadValues) {
  auto c = Config::Parse({"--n=x", "--d=soon", "--b=maybe"}, {"n", "d", "b"});
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->GetInt("n", 0).ok());
  EXPECT_FALSE(c->GetDuration("d", absl::Seconds(1)).ok());
  EXPECT_FALSE(c->GetBool("b", false).ok());
  EXPECT_EQ(*c->GetDuration("missing", absl::Seconds(3)), absl::Seconds(3));
}

TEST(ConfigTest, ParsesDurations) {
  auto c = Config::Parse({"--tick=250ms"}, {"tick"});
  EXPECT_EQ(*c->GetDuration("tick", absl::Hours(1)), absl::Milliseconds(250));
}

}  // namespace
}  // namespace inbeeld::util

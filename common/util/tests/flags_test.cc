#include "inbeeld/util/flags.h"

#include <cstdlib>
#include <sstream>

#include "gtest/gtest.h"

namespace inbeeld::util {
namespace {

// A command with one flag of each kind, as the binaries define them.
struct Flags {
  std::string ready_file;
  int64_t buffer_size = 1000;
  bool demo = true;
  bool plaintext = false;
  absl::Duration tick = absl::Hours(1);
};

struct Outcome {
  std::optional<int> exit;
  Flags flags;
  std::string out, err;
};

Outcome Parse(const std::vector<std::string>& args) {
  Outcome o;
  CLI::App app("test command", "inbeeld test");
  AddOption(app, "ready-file", o.flags.ready_file, "ready file");
  AddOption(app, "buffer-size", o.flags.buffer_size, "buffer")->check(util::IntegerIn(1));
  AddSwitch(app, "demo", o.flags.demo, "demo");
  AddSwitch(app, "plaintext", o.flags.plaintext, "no TLS");
  AddDuration(app, "tick", o.flags.tick, "tick");
  std::ostringstream out, err;
  o.exit = ParseFlags(app, args, out, err);
  o.out = out.str();
  o.err = err.str();
  return o;
}

TEST(FlagsTest, SpaceAndEqualsFormsAreTheSame) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--ready-file", "/tmp/r.json", "--buffer-size", "5", "--tick", "250ms"},
           {"--ready-file=/tmp/r.json", "--buffer-size=5", "--tick=250ms"}}) {
    Outcome o = Parse(args);
    ASSERT_EQ(o.exit, std::nullopt) << o.err;
    EXPECT_EQ(o.flags.ready_file, "/tmp/r.json");
    EXPECT_EQ(o.flags.buffer_size, 5);
    EXPECT_EQ(o.flags.tick, absl::Milliseconds(250));
  }
}

TEST(FlagsTest, SwitchesBareAndWithValue) {
  struct Case {
    std::vector<std::string> args;
    bool demo, plaintext;
  };
  for (const Case& c : std::vector<Case>{{{}, true, false},
                                         {{"--plaintext"}, true, true},
                                         {{"--plaintext=true"}, true, true},
                                         {{"--plaintext=false"}, true, false},
                                         {{"--demo=false"}, false, false},
                                         {{"--demo=0", "--plaintext=yes"}, false, true}}) {
    Outcome o = Parse(c.args);
    ASSERT_EQ(o.exit, std::nullopt) << o.err;
    EXPECT_EQ(o.flags.demo, c.demo) << ::testing::PrintToString(c.args);
    EXPECT_EQ(o.flags.plaintext, c.plaintext) << ::testing::PrintToString(c.args);
  }
}

TEST(FlagsTest, DefaultsStayWhenAbsent) {
  Outcome o = Parse({});
  ASSERT_EQ(o.exit, std::nullopt);
  EXPECT_EQ(o.flags.buffer_size, 1000);
  EXPECT_EQ(o.flags.tick, absl::Hours(1));
  EXPECT_EQ(o.flags.ready_file, "");
}

TEST(FlagsTest, UsageErrorsExitTwoWithAHint) {
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (const Case& c : std::vector<Case>{{{"--ready-fiel=/tmp/x"}, "ready-fiel"},
                                         {{"stray"}, "stray"},
                                         {{"--ready-file", "/tmp/r", "extra"}, "extra"},
                                         {{"--buffer-size=abc"}, "buffer-size"},
                                         {{"--buffer-size=0"}, "buffer-size"},
                                         {{"--plaintext=maybe"}, "maybe"},
                                         {{"--tick=soon"}, "tick"},
                                         {{"--tick=-1s"}, "tick"},
                                         {{"--ready-file"}, "ready-file"}}) {
    Outcome o = Parse(c.args);
    EXPECT_EQ(o.exit, 2) << ::testing::PrintToString(c.args);
    EXPECT_NE(o.err.find(c.mentions), std::string::npos) << o.err;
    EXPECT_NE(o.err.find("--help"), std::string::npos) << o.err;
  }
}

TEST(FlagsTest, HelpExitsZeroAndListsDefaultsAndEnvironment) {
  for (const char* h : {"-h", "--help"}) {
    Outcome o = Parse({h});
    EXPECT_EQ(o.exit, 0);
    for (const char* expected : {"--ready-file", "INBEELD_READY_FILE", "--buffer-size", "=1000",
                                 "INBEELD_BUFFER_SIZE", "--tick", "=1h", "INBEELD_TICK", "--demo",
                                 "[default: true]", "INBEELD_DEMO", "[default: false]", "INBEELD_PLAINTEXT"}) {
      EXPECT_NE(o.out.find(expected), std::string::npos) << expected << " missing in\n" << o.out;
    }
  }
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(FlagsTest, EnvironmentUsedWhenFlagAbsentAndFlagWins) {
  ScopedEnv a("INBEELD_READY_FILE", "/env/ready");
  ScopedEnv b("INBEELD_BUFFER_SIZE", "7");
  ScopedEnv c("INBEELD_PLAINTEXT", "true");
  ScopedEnv d("INBEELD_TICK", "2s");
  Outcome from_env = Parse({});
  ASSERT_EQ(from_env.exit, std::nullopt) << from_env.err;
  EXPECT_EQ(from_env.flags.ready_file, "/env/ready");
  EXPECT_EQ(from_env.flags.buffer_size, 7);
  EXPECT_TRUE(from_env.flags.plaintext);
  EXPECT_EQ(from_env.flags.tick, absl::Seconds(2));
  Outcome flag_wins = Parse({"--ready-file", "/flag/ready", "--buffer-size=9", "--plaintext=false", "--tick=3s"});
  ASSERT_EQ(flag_wins.exit, std::nullopt) << flag_wins.err;
  EXPECT_EQ(flag_wins.flags.ready_file, "/flag/ready");
  EXPECT_EQ(flag_wins.flags.buffer_size, 9);
  EXPECT_FALSE(flag_wins.flags.plaintext);
  EXPECT_EQ(flag_wins.flags.tick, absl::Seconds(3));
}

TEST(FlagsTest, MalformedEnvironmentValueIsAUsageError) {
  ScopedEnv a("INBEELD_BUFFER_SIZE", "lots");
  EXPECT_EQ(Parse({}).exit, 2);
}

TEST(FlagsTest, EnvNames) {
  EXPECT_EQ(EnvName("grpc-listen"), "INBEELD_GRPC_LISTEN");
  EXPECT_EQ(EnvName("kafka"), "INBEELD_KAFKA");
}

TEST(FlagsTest, PseudonymSecretSetButEmptyIsNoticed) {
  {
    CLI::App app;
    ServiceFlags flags;
    flags.Add(app, true);
    std::ostringstream out, err;
    ASSERT_EQ(ParseFlags(app, std::vector<std::string>{}, out, err), std::nullopt);
    EXPECT_FALSE(flags.PseudonymSecretSet());
  }
  {
    ScopedEnv empty("INBEELD_PSEUDONYM_SECRET", "");
    CLI::App app;
    ServiceFlags flags;
    flags.Add(app, true);
    std::ostringstream out, err;
    ASSERT_EQ(ParseFlags(app, std::vector<std::string>{}, out, err), std::nullopt);
    EXPECT_TRUE(flags.PseudonymSecretSet());
    EXPECT_EQ(flags.pseudonym_secret, "");
  }
  {
    CLI::App app;
    ServiceFlags flags;
    flags.Add(app, false);
    std::ostringstream out, err;
    ASSERT_EQ(ParseFlags(app, std::vector<std::string>{"--pseudonym-secret="}, out, err), std::nullopt);
    EXPECT_TRUE(flags.PseudonymSecretSet());
    EXPECT_EQ(flags.pseudonym_secret, "");
  }
}

}  // namespace
}  // namespace inbeeld::util

#include "inbeeld/util/log.h"

#include "gtest/gtest.h"

namespace inbeeld::util {
namespace {

TEST(LogTest, EscapesJson) {
  EXPECT_EQ(JsonEscape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

TEST(LogTest, LevelNamesAreValidated) {
  EXPECT_TRUE(SetLogLevel("debug"));
  EXPECT_TRUE(SetLogLevel("WARN"));
  EXPECT_FALSE(SetLogLevel("loud"));
  EXPECT_TRUE(SetLogLevel("info"));
}

TEST(LogTest, LogEnabledFollowsTheLevel) {
  ASSERT_TRUE(SetLogLevel("warn"));
  EXPECT_FALSE(LogEnabled(LogLevel::kDebug));
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kWarn));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  ASSERT_TRUE(SetLogLevel("debug"));
  EXPECT_TRUE(LogEnabled(LogLevel::kDebug));
  ASSERT_TRUE(SetLogLevel("info"));
}

TEST(LogTest, WritesOneJsonObjectPerLine) {
  testing::internal::CaptureStderr();
  InitLogging("test", "info");
  LogInfo("hello", {{"ce_id", "x\"y"}});
  LogDebug("hidden");
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("\"service\":\"test\""), std::string::npos);
  EXPECT_NE(out.find("\"msg\":\"hello\""), std::string::npos);
  EXPECT_NE(out.find("\"ce_id\":\"x\\\"y\""), std::string::npos);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

}  // namespace
}  // namespace inbeeld::util

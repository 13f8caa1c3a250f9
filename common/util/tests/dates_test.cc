#include "inbeeld/util/dates.h"

#include "gtest/gtest.h"

namespace inbeeld::util {
namespace {

TEST(DatesTest, ParsesRealDates) {
  struct Case { const char* text; int y, m, d; };
  for (const Case& c : {Case{"2024-02-29", 2024, 2, 29}, Case{"2023-01-01", 2023, 1, 1},
                        Case{"2025-07-31", 2025, 7, 31}}) {
    auto day = ParseDate(c.text);
    ASSERT_TRUE(day.ok()) << c.text;
    EXPECT_EQ(*day, absl::CivilDay(c.y, c.m, c.d));
    EXPECT_EQ(FormatDate(*day), c.text);
  }
}

TEST(DatesTest, RejectsNonDates) {
  for (const char* text : {"2023-02-29", "2023-13-01", "2023-00-10", "2023-1-01", "20230101",
                           "2023-01-01T00:00", "", "abcd-ef-gh", "1800-01-01", "2023-04-31"}) {
    EXPECT_FALSE(ParseDate(text).ok()) << text;
  }
}

}  // namespace
}  // namespace inbeeld::util

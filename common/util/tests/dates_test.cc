#include "inbeeld/util/dates.h"

#include "absl/strings/str_format.h"
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

// FormatDate writes its digits itself: it must equal the printf form for every
// day of the years the service meets, and for years outside four digits.
TEST(DatesTest, FormatDateEqualsPrintfForEveryDay) {
  for (absl::CivilDay day(1899, 12, 25); day <= absl::CivilDay(2201, 1, 5); ++day) {
    ASSERT_EQ(FormatDate(day), absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day()));
  }
  for (const absl::CivilDay day : {absl::CivilDay(0, 1, 1), absl::CivilDay(9, 3, 4), absl::CivilDay(999, 12, 31),
                                   absl::CivilDay(9999, 12, 31), absl::CivilDay(10000, 1, 1),
                                   absl::CivilDay(-1, 6, 15)}) {
    EXPECT_EQ(FormatDate(day), absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day()));
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

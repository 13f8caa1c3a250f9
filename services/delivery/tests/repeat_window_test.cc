#include "inbeeld/delivery/repeat_window.h"

#include "gtest/gtest.h"

namespace inbeeld::delivery {
namespace {

TEST(RepeatWindowTest, ASignalAgainWithinTheWindowIsARepeat) {
  RepeatWindow window(10);
  EXPECT_FALSE(window.ObserveIsRepeat(0, 0, "org-a", "s1"));
  EXPECT_FALSE(window.ObserveIsRepeat(0, 1, "org-a", "s2"));
  EXPECT_TRUE(window.ObserveIsRepeat(0, 5, "org-a", "s1"));
  EXPECT_TRUE(window.ObserveIsRepeat(0, 10, "org-a", "s1"));  // 5 is within 10
}

TEST(RepeatWindowTest, OutsideTheWindowItIsForgotten) {
  RepeatWindow window(10);
  EXPECT_FALSE(window.ObserveIsRepeat(0, 0, "org-a", "s1"));
  EXPECT_TRUE(window.ObserveIsRepeat(0, 10, "org-a", "s1"));  // [0, 10)
  EXPECT_FALSE(window.ObserveIsRepeat(0, 21, "org-a", "s1"));  // 10 < 21 - 10
  EXPECT_LE(window.size(), 1u);
}

TEST(RepeatWindowTest, PartitionsAndOrganisationsAreSeparate) {
  RepeatWindow window(10);
  EXPECT_FALSE(window.ObserveIsRepeat(0, 0, "org-a", "s1"));
  EXPECT_FALSE(window.ObserveIsRepeat(1, 0, "org-a", "s1"));
  EXPECT_FALSE(window.ObserveIsRepeat(0, 1, "org-b", "s1"));
  // "org-a" + "\0" + id cannot be confused with another split.
  EXPECT_FALSE(window.ObserveIsRepeat(0, 2, "org-as", "1"));
}

TEST(RepeatWindowTest, ZeroRemembersNothing) {
  RepeatWindow window(0);
  EXPECT_FALSE(window.ObserveIsRepeat(0, 0, "org-a", "s1"));
  EXPECT_FALSE(window.ObserveIsRepeat(0, 1, "org-a", "s1"));
}

}  // namespace
}  // namespace inbeeld::delivery

#include "inbeeld/ingest/dedup_window.h"

#include <thread>

#include "gtest/gtest.h"

namespace inbeeld::ingest {
namespace {

TEST(DedupWindowTest, RetryOfAcceptedKeyIsDuplicate) {
  DedupWindow w(10);
  EXPECT_EQ(w.TryClaim("a", "f1", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  w.Complete("a", true);
  EXPECT_EQ(w.TryClaim("a", "f1", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate);
  EXPECT_EQ(w.TryClaim("a", "f2", absl::ZeroDuration()), DedupWindow::Claim::kConflict);
}

TEST(DedupWindowTest, FailedClaimIsReleasedForTheRetry) {
  DedupWindow w(10);
  EXPECT_EQ(w.TryClaim("a", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  w.Complete("a", false);
  EXPECT_EQ(w.TryClaim("a", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
}

TEST(DedupWindowTest, ConcurrentSameKeyWaitsForTheFirst) {
  DedupWindow w(10);
  ASSERT_EQ(w.TryClaim("a", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  EXPECT_EQ(w.TryClaim("a", "f", absl::Milliseconds(1)), DedupWindow::Claim::kBusy);
  std::thread t([&] { w.Complete("a", true); });
  EXPECT_EQ(w.TryClaim("a", "f", absl::Seconds(30)), DedupWindow::Claim::kDuplicate);
  t.join();
}

TEST(DedupWindowTest, BoundedOldestForgottenFirst) {
  DedupWindow w(3);
  for (std::string k : {"a", "b", "c", "d"}) {
    ASSERT_EQ(w.TryClaim(k, "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
    w.Complete(k, true);
  }
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.TryClaim("a", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  EXPECT_EQ(w.TryClaim("d", "f", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate);
}

TEST(DedupWindowTest, ARequestInFlightIsNeverForgottenWhenTheWindowGoesRound) {
  DedupWindow w(2);
  ASSERT_EQ(w.TryClaim("slow", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  for (std::string k : {"b", "c", "d", "e"}) {
    ASSERT_EQ(w.TryClaim(k, "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
    w.Complete(k, true);
  }
  EXPECT_EQ(w.size(), 2u);  // "slow" and the newest
  EXPECT_EQ(w.TryClaim("slow", "f", absl::ZeroDuration()), DedupWindow::Claim::kBusy);
  w.Complete("slow", true);
  EXPECT_EQ(w.TryClaim("slow", "f", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate);
  EXPECT_EQ(w.TryClaim("e", "f", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate);
  EXPECT_EQ(w.TryClaim("d", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);  // forgotten
}

TEST(DedupWindowTest, MoreRequestsInFlightThanTheCapacityAreAllKept) {
  DedupWindow w(2);
  for (std::string k : {"a", "b", "c"}) {
    ASSERT_EQ(w.TryClaim(k, "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  }
  EXPECT_EQ(w.size(), 3u);
  for (std::string k : {"a", "b", "c"}) {
    EXPECT_EQ(w.TryClaim(k, "f", absl::ZeroDuration()), DedupWindow::Claim::kBusy) << k;
    w.Complete(k, true);
    EXPECT_EQ(w.TryClaim(k, "f", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate) << k;
  }
}

TEST(DedupWindowTest, AReleasedKeyLeavesNothingBehind) {
  DedupWindow w(2);
  ASSERT_EQ(w.TryClaim("a", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  w.Complete("a", false);
  EXPECT_EQ(w.size(), 0u);
  for (std::string k : {"b", "c"}) {
    ASSERT_EQ(w.TryClaim(k, "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
    w.Complete(k, true);
  }
  EXPECT_EQ(w.TryClaim("b", "f", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate);
  EXPECT_EQ(w.TryClaim("c", "f", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate);
}

TEST(DedupWindowTest, KeysOfEveryLengthSurviveTheirSlotsBeingReused) {
  // Short keys live inside their string, long ones on the heap: the index
  // views either, and a reused slot must not leave a view to the old key.
  DedupWindow w(3);
  const std::string long_key(64, 'k');
  for (int round = 0; round < 4; ++round) {
    for (std::string k : {std::string("s") + std::to_string(round), long_key + std::to_string(round)}) {
      ASSERT_EQ(w.TryClaim(k, "f" + k, absl::ZeroDuration()), DedupWindow::Claim::kNew) << k;
      w.Complete(k, true);
      EXPECT_EQ(w.TryClaim(k, "f" + k, absl::ZeroDuration()), DedupWindow::Claim::kDuplicate) << k;
      EXPECT_EQ(w.TryClaim(k, "other", absl::ZeroDuration()), DedupWindow::Claim::kConflict) << k;
    }
    EXPECT_LE(w.size(), 3u);
  }
  EXPECT_EQ(w.TryClaim(long_key + "3", "f" + long_key + "3", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate);
  EXPECT_EQ(w.TryClaim("s0", "fs0", absl::ZeroDuration()), DedupWindow::Claim::kNew);
}

}  // namespace
}  // namespace inbeeld::ingest

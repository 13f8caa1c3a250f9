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

}  // namespace
}  // namespace inbeeld::ingest

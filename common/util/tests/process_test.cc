#include "inbeeld/util/process.h"

#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace inbeeld::util {
namespace {

// Takes two mutexes in one order, then in the other: a potential deadlock that
// Abseil's detector (on in Debian's build, which has no NDEBUG) reports by
// aborting the process.
void LockInBothOrders() {
  absl::Mutex a;
  absl::Mutex b;
  {
    absl::MutexLock la(&a);
    absl::MutexLock lb(&b);
  }
  {
    absl::MutexLock lb(&b);
    absl::MutexLock la(&a);
  }
}

TEST(ProcessDeathTest, AServiceRunsWithoutTheMutexDeadlockDetector) {
  // In a child process: the detector's mode is process-wide and the other
  // tests of this binary keep it.
  EXPECT_EXIT(
      {
        DisableMutexDeadlockDetection();
        LockInBothOrders();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(ProcessDeathTest, TestsKeepTheDetectorThatTheServicesTurnOff) {
  // Debian's Abseil has the detector on by default (the reason the services
  // turn it off): the same inversion aborts a test binary.
  EXPECT_DEATH(LockInBothOrders(), "Potential Mutex deadlock");
}

}  // namespace
}  // namespace inbeeld::util

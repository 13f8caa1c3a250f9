#include "inbeeld/ingest/dedup_window.h"

#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace inbeeld::ingest {
namespace {

// The window with the tickets of its new claims kept by key, so that a test
// completes by key as ingest completes by the ticket it holds.
class Window {
 public:
  explicit Window(size_t capacity) : window_(capacity) {}
  DedupWindow::Claim TryClaim(const std::string& key, const std::string& fingerprint, absl::Duration wait) {
    DedupWindow::Ticket ticket;
    const DedupWindow::Claim claim = window_.TryClaim(key, fingerprint, wait, &ticket);
    if (claim == DedupWindow::Claim::kNew) {
      absl::MutexLock lock(&mu_);
      tickets_[key] = ticket;
    }
    return claim;
  }
  void Complete(const std::string& key, bool accepted) {
    DedupWindow::Ticket ticket;
    {
      absl::MutexLock lock(&mu_);
      ticket = tickets_[key];
    }
    window_.Complete(ticket, accepted);
  }
  size_t size() const { return window_.size(); }

 private:
  DedupWindow window_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, DedupWindow::Ticket> tickets_;
};

TEST(DedupWindowTest, RetryOfAcceptedKeyIsDuplicate) {
  Window w(10);
  EXPECT_EQ(w.TryClaim("a", "f1", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  w.Complete("a", true);
  EXPECT_EQ(w.TryClaim("a", "f1", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate);
  EXPECT_EQ(w.TryClaim("a", "f2", absl::ZeroDuration()), DedupWindow::Claim::kConflict);
}

TEST(DedupWindowTest, FailedClaimIsReleasedForTheRetry) {
  Window w(10);
  EXPECT_EQ(w.TryClaim("a", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  w.Complete("a", false);
  EXPECT_EQ(w.TryClaim("a", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
}

TEST(DedupWindowTest, ConcurrentSameKeyWaitsForTheFirst) {
  Window w(10);
  ASSERT_EQ(w.TryClaim("a", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  EXPECT_EQ(w.TryClaim("a", "f", absl::Milliseconds(1)), DedupWindow::Claim::kBusy);
  std::thread t([&] { w.Complete("a", true); });
  EXPECT_EQ(w.TryClaim("a", "f", absl::Seconds(30)), DedupWindow::Claim::kDuplicate);
  t.join();
}

TEST(DedupWindowTest, BoundedOldestForgottenFirst) {
  Window w(3);
  for (std::string k : {"a", "b", "c", "d"}) {
    ASSERT_EQ(w.TryClaim(k, "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
    w.Complete(k, true);
  }
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.TryClaim("a", "f", absl::ZeroDuration()), DedupWindow::Claim::kNew);
  EXPECT_EQ(w.TryClaim("d", "f", absl::ZeroDuration()), DedupWindow::Claim::kDuplicate);
}

TEST(DedupWindowTest, ARequestInFlightIsNeverForgottenWhenTheWindowGoesRound) {
  Window w(2);
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
  Window w(2);
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
  Window w(2);
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
  Window w(3);
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

TEST(DedupWindowTest, AStaleTicketDoesNotCompleteTheClaimThatReusedItsSlot) {
  DedupWindow w(1);
  DedupWindow::Ticket a;
  ASSERT_EQ(w.TryClaim("a", "f", absl::ZeroDuration(), &a), DedupWindow::Claim::kNew);
  w.Complete(a, true);
  DedupWindow::Ticket b;
  ASSERT_EQ(w.TryClaim("b", "f", absl::ZeroDuration(), &b), DedupWindow::Claim::kNew);  // a's slot, a forgotten
  ASSERT_EQ(a.slot, b.slot);
  w.Complete(a, false);  // again, and late: b is still in flight
  EXPECT_EQ(w.TryClaim("b", "f", absl::ZeroDuration(), &a), DedupWindow::Claim::kBusy);
  w.Complete(b, true);
  EXPECT_EQ(w.TryClaim("b", "f", absl::ZeroDuration(), &a), DedupWindow::Claim::kDuplicate);
  w.Complete(DedupWindow::Ticket{}, false);  // a default ticket: nothing
  EXPECT_EQ(w.size(), 1u);
}

TEST(DedupWindowTest, ACeIdIsReadAsItsBytesAndAnyOtherStringIsHashed) {
  using D = DedupWindow::Digest;
  EXPECT_EQ(DedupWindow::DigestOf("0123456789abcdef0011223344556677"),
            (D{0x0123456789abcdefULL, 0x0011223344556677ULL}));
  // SHA-256("abc") begins ba7816bf8f01cfea 414140de5dae2223.
  EXPECT_EQ(DedupWindow::DigestOf("abc"), (D{0xba7816bf8f01cfeaULL, 0x414140de5dae2223ULL}));
  // Not a ce_id: upper case, a non-hex digit, one digit short. Each is hashed, so none is the ce_id's digest.
  const D ce_id = DedupWindow::DigestOf("0123456789abcdef0011223344556677");
  for (const char* other : {"0123456789ABCDEF0011223344556677", "0123456789abcdef001122334455667g",
                            "0123456789abcdef001122334455667"}) {
    EXPECT_NE(DedupWindow::DigestOf(other), ce_id) << other;
  }
  // Strings that differ only after their first 16 bytes stay apart.
  const std::string prefix(40, 'p');
  EXPECT_NE(DedupWindow::DigestOf(prefix + "1"), DedupWindow::DigestOf(prefix + "2"));
}

}  // namespace
}  // namespace inbeeld::ingest

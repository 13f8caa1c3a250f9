#include "inbeeld/delivery/subscriber_buffer.h"

#include <thread>

#include "gtest/gtest.h"

namespace inbeeld::delivery {
namespace {

Aflevering Bericht(const std::string& id) {
  Aflevering a;
  a.bericht.mutable_signaal()->set_signaal_id(id);
  a.bericht.set_cursor("0:" + id);
  return a;
}

TEST(SubscriberBufferTest, HandsOutInOrder) {
  SubscriberBuffer buffer(10);
  ASSERT_TRUE(buffer.Push(Bericht("1")));
  ASSERT_TRUE(buffer.Push(Bericht("2")));
  for (const char* want : {"1", "2"}) {
    auto next = buffer.Pop(absl::ZeroDuration());
    ASSERT_TRUE(next.ok());
    ASSERT_TRUE(next->has_value());
    EXPECT_EQ((*next)->bericht.signaal().signaal_id(), want);
  }
  auto empty = buffer.Pop(absl::ZeroDuration());
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST(SubscriberBufferTest, FullBufferCutsTheSubscriberOff) {
  SubscriberBuffer buffer(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(buffer.Push(Bericht(std::to_string(i))));
  EXPECT_FALSE(buffer.Push(Bericht("overflow")));
  EXPECT_TRUE(buffer.closed());
  // Memory is released at once: pending messages are dropped, the client
  // resumes from the last cursor it received.
  EXPECT_EQ(buffer.size(), 0u);
  auto next = buffer.Pop(absl::ZeroDuration());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(next.status().message().find("cursor"), std::string_view::npos);
  // Stays closed.
  EXPECT_FALSE(buffer.Push(Bericht("later")));
  EXPECT_EQ(buffer.Pop(absl::ZeroDuration()).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(SubscriberBufferTest, KeepingUpIsNeverCutOff) {
  SubscriberBuffer buffer(2);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(buffer.Push(Bericht(std::to_string(i))));
    ASSERT_TRUE(buffer.Pop(absl::ZeroDuration()).ok());
  }
  EXPECT_FALSE(buffer.closed());
}

TEST(SubscriberBufferTest, AFullBufferWaitsForTheSubscriberToTakeOne) {
  SubscriberBuffer buffer(1);
  ASSERT_TRUE(buffer.Push(Bericht("1")));
  std::thread subscriber([&] {
    // Takes one message once the producer is (about to be) waiting for room.
    absl::StatusOr<std::optional<Aflevering>> next;
    do {
      next = buffer.Pop(absl::Seconds(10));
    } while (next.ok() && !next->has_value());
  });
  // Waits (up to a generous bound, never reached in practice) instead of
  // cutting the subscriber off.
  EXPECT_TRUE(buffer.Push(Bericht("2"), absl::Seconds(60)));
  subscriber.join();
  EXPECT_FALSE(buffer.closed());
}

TEST(SubscriberBufferTest, CloseWakesAWaitingPush) {
  SubscriberBuffer buffer(1);
  ASSERT_TRUE(buffer.Push(Bericht("1")));
  std::thread stopper([&] { buffer.Close(absl::UnavailableError("stop"), true); });
  EXPECT_FALSE(buffer.Push(Bericht("2"), absl::Seconds(60)));
  stopper.join();
  EXPECT_EQ(buffer.Pop(absl::ZeroDuration()).status().code(), absl::StatusCode::kUnavailable);
}

TEST(SubscriberBufferTest, CloseKeepingPendingDeliversThemFirst) {
  SubscriberBuffer buffer(10);
  ASSERT_TRUE(buffer.Push(Bericht("1")));
  buffer.Close(absl::UnavailableError("reader failed"), /*discard_pending=*/false);
  auto first = buffer.Pop(absl::ZeroDuration());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(buffer.Pop(absl::ZeroDuration()).status().code(), absl::StatusCode::kUnavailable);
}

TEST(SubscriberBufferTest, CloseDiscardingDropsPending) {
  SubscriberBuffer buffer(10);
  ASSERT_TRUE(buffer.Push(Bericht("1")));
  buffer.Close(absl::UnavailableError("shutting down"), /*discard_pending=*/true);
  EXPECT_EQ(buffer.Pop(absl::ZeroDuration()).status().code(), absl::StatusCode::kUnavailable);
}

TEST(SubscriberBufferTest, FirstCloseWins) {
  SubscriberBuffer buffer(1);
  ASSERT_TRUE(buffer.Push(Bericht("1")));
  EXPECT_FALSE(buffer.Push(Bericht("2")));  // cut off
  buffer.Close(absl::UnavailableError("shutting down"), true);
  EXPECT_EQ(buffer.Pop(absl::ZeroDuration()).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(SubscriberBufferTest, PopWakesOnPushFromAnotherThread) {
  SubscriberBuffer buffer(10);
  std::thread producer([&] { buffer.Push(Bericht("x")); });
  absl::StatusOr<std::optional<Aflevering>> next;
  do {
    next = buffer.Pop(absl::Seconds(10));
    ASSERT_TRUE(next.ok());
  } while (!next->has_value());
  producer.join();
  EXPECT_EQ((*next)->bericht.signaal().signaal_id(), "x");
}

}  // namespace
}  // namespace inbeeld::delivery

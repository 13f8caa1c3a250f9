#include "inbeeld/delivery/abonnement.h"

#include <atomic>
#include <deque>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/signaal.pb.h"
#include "fake_log.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace inbeeld::delivery {
namespace {

// Hands out a fixed list of records, then reports "caught up" (or an error).
class FakeReader final : public AfleveringReader {
 public:
  explicit FakeReader(std::deque<kafka::InRecord> records, absl::Status at_end = absl::OkStatus())
      : records_(std::move(records)), at_end_(std::move(at_end)) {}
  absl::StatusOr<std::optional<kafka::InRecord>> Poll(absl::Duration) override {
    if (records_.empty()) {
      if (!at_end_.ok()) return at_end_;
      return std::optional<kafka::InRecord>();
    }
    kafka::InRecord r = std::move(records_.front());
    records_.pop_front();
    return std::optional<kafka::InRecord>(std::move(r));
  }
  int32_t partition_count() const override { return 2; }

 private:
  std::deque<kafka::InRecord> records_;
  absl::Status at_end_;
};

using testing::FakeLog;
using testing::Record;

// An Abonnement without a shared tail, whose one catch-up reader is `reader`.
std::unique_ptr<Abonnement> Make(const std::string& organisatie, std::unique_ptr<FakeReader> reader,
                                 Cursor start, size_t capacity,
                                 Abonnement::CutOffHandling cut_off = {},
                                 prometheus::Counter* repeats = nullptr) {
  auto shared = std::make_shared<std::unique_ptr<FakeReader>>(std::move(reader));
  Abonnement::Options options;
  options.buffer_capacity = capacity;
  options.poll_timeout = absl::Milliseconds(1);
  options.repeats_dropped = repeats;
  return std::make_unique<Abonnement>(
      organisatie, std::move(start),
      [shared](const Cursor&, int64_t) -> absl::StatusOr<std::unique_ptr<AfleveringReader>> {
        if (*shared == nullptr) return absl::InternalError("opened twice");
        return std::unique_ptr<AfleveringReader>(std::move(*shared));
      },
      nullptr, options, std::move(cut_off));
}

// Pops `n` messages (blocking; the test fails on a status).
std::vector<Aflevering> Take(SubscriberBuffer& buffer, int n) {
  std::vector<Aflevering> out;
  while (static_cast<int>(out.size()) < n) {
    auto next = buffer.Pop(absl::Seconds(10));
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok()) break;
    if (next->has_value()) out.push_back(**std::move(next));
  }
  return out;
}

TEST(AbonnementTest, KeepsOnlyTheOrganisationsRecordsWithCursorAfterEach) {
  std::deque<kafka::InRecord> records = {
      Record(0, 0, "org-a", "a1"), Record(1, 0, "org-b", "b1"), Record(1, 1, "org-a", "a2"),
      Record(0, 1, "org-b", "b2"), Record(0, 2, "org-a", "a3"),
  };
  auto abonnement = Make("org-a", std::make_unique<FakeReader>(records), Cursor{}, 10);
  abonnement->Start();
  std::vector<Aflevering> got = Take(abonnement->buffer(), 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].bericht.signaal().signaal_id(), "a1");
  EXPECT_EQ(got[0].bericht.cursor(), "0:1");
  EXPECT_EQ(got[1].bericht.signaal().signaal_id(), "a2");
  // b1 at 1:0 was read (and skipped) before a2.
  EXPECT_EQ(got[1].bericht.cursor(), "0:1,1:2");
  EXPECT_EQ(got[2].bericht.signaal().signaal_id(), "a3");
  EXPECT_EQ(got[2].bericht.cursor(), "0:3,1:2");
  EXPECT_EQ(got[2].record_time, absl::FromUnixMillis(1'700'000'000'000));
  ASSERT_TRUE(got[2].ingest_time.has_value());
  EXPECT_EQ(*got[2].ingest_time, absl::FromUnixMillis(1'709'287'200'500));
}

TEST(AbonnementTest, StartsFromTheCursorPositions) {
  // The reader already sits at the cursor; the cursor carries on from there.
  auto abonnement = Make("org-a", std::make_unique<FakeReader>(std::deque{Record(0, 7, "org-a", "a8")}),
                         Cursor{{{0, 7}, {1, 4}}}, 10);
  abonnement->Start();
  std::vector<Aflevering> got = Take(abonnement->buffer(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bericht.cursor(), "0:8,1:4");
}

TEST(AbonnementTest, NeverDeliversAPayloadRoutedElsewhere) {
  kafka::InRecord mismatched = Record(0, 0, "org-b", "b1");
  mismatched.key = "org-a";  // key says A, payload says B
  auto abonnement = Make(
      "org-a",
      std::make_unique<FakeReader>(std::deque{mismatched, kafka::InRecord{Record(0, 1, "org-a", "a1")}}),
      Cursor{}, 10);
  abonnement->Start();
  std::vector<Aflevering> got = Take(abonnement->buffer(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bericht.signaal().signaal_id(), "a1");
}

TEST(AbonnementTest, SkipsUndecodableRecords) {
  kafka::InRecord broken = Record(0, 0, "org-a", "x");
  broken.value = "\xff\xff\xff";
  auto abonnement = Make(
      "org-a", std::make_unique<FakeReader>(std::deque{broken, Record(0, 1, "org-a", "a1")}),
      Cursor{}, 10);
  abonnement->Start();
  std::vector<Aflevering> got = Take(abonnement->buffer(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bericht.signaal().signaal_id(), "a1");
  EXPECT_EQ(got[0].bericht.cursor(), "0:2");
}

TEST(AbonnementTest, ReaderErrorEndsTheStreamAfterPendingMessages) {
  auto abonnement = Make("org-a",
                         std::make_unique<FakeReader>(std::deque{Record(0, 0, "org-a", "a1")},
                                                      absl::UnavailableError("topic gone")),
                         Cursor{}, 10);
  abonnement->Start();
  std::vector<Aflevering> got = Take(abonnement->buffer(), 1);
  ASSERT_EQ(got.size(), 1u);
  absl::StatusOr<std::optional<Aflevering>> next;
  do {
    next = abonnement->buffer().Pop(absl::Seconds(10));
  } while (next.ok() && !next->has_value());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kUnavailable);
}

TEST(AbonnementTest, SlowSubscriberIsCutOff) {
  std::deque<kafka::InRecord> records;
  for (int i = 0; i < 5; ++i) records.push_back(Record(0, i, "org-a", std::to_string(i)));
  std::atomic<int> cut_offs = 0;
  std::atomic<int> stuck = 0;
  Abonnement::CutOffHandling cut_off;
  cut_off.slow_subscriber_timeout = absl::ZeroDuration();
  cut_off.on_cut_off = [&cut_offs] { ++cut_offs; };
  cut_off.stuck_grace = absl::ZeroDuration();
  cut_off.on_stuck = [&stuck] { ++stuck; };
  auto abonnement = Make("org-a", std::make_unique<FakeReader>(records), Cursor{}, 3, cut_off);
  abonnement->Start();
  // Nobody pops: the fourth record overflows the buffer of three.
  while (!abonnement->buffer().closed()) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(abonnement->buffer().Pop(absl::ZeroDuration()).status().code(),
            absl::StatusCode::kResourceExhausted);
  // The subscription does not end within the (zero) grace: the call is
  // cancelled.
  while (stuck.load() == 0) absl::SleepFor(absl::Milliseconds(1));
  abonnement.reset();  // joins the catch-up thread
  EXPECT_EQ(cut_offs.load(), 1);
  EXPECT_EQ(stuck.load(), 1);
}

TEST(AbonnementTest, EndingInTimeIsNotStuck) {
  std::deque<kafka::InRecord> records;
  for (int i = 0; i < 5; ++i) records.push_back(Record(0, i, "org-a", std::to_string(i)));
  std::atomic<int> stuck = 0;
  Abonnement::CutOffHandling cut_off;
  cut_off.slow_subscriber_timeout = absl::ZeroDuration();
  cut_off.stuck_grace = absl::Hours(1);
  cut_off.on_stuck = [&stuck] { ++stuck; };
  auto abonnement = Make("org-a", std::make_unique<FakeReader>(records), Cursor{}, 3, cut_off);
  abonnement->Start();
  while (!abonnement->buffer().closed()) absl::SleepFor(absl::Milliseconds(1));
  abonnement.reset();  // the handler ended: Stop wakes the grace wait
  EXPECT_EQ(stuck.load(), 0);
}

// Routing wrote a1 again after a crash: the stream carries it once.
TEST(AbonnementTest, WithholdsARepeatedSignal) {
  prometheus::Registry registry;
  prometheus::Counter& repeats =
      prometheus::BuildCounter().Name("repeats").Register(registry).Add({});
  std::deque<kafka::InRecord> records = {Record(0, 0, "org-a", "a1"), Record(0, 1, "org-a", "a2"),
                                         Record(0, 2, "org-a", "a1"), Record(0, 3, "org-a", "a3")};
  auto abonnement = Make("org-a", std::make_unique<FakeReader>(records), Cursor{}, 10, {}, &repeats);
  abonnement->Start();
  std::vector<Aflevering> got = Take(abonnement->buffer(), 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].bericht.signaal().signaal_id(), "a1");
  EXPECT_EQ(got[1].bericht.signaal().signaal_id(), "a2");
  EXPECT_EQ(got[2].bericht.signaal().signaal_id(), "a3");
  // The repeat's position is inside a3's cursor: a resume does not see it.
  EXPECT_EQ(got[2].bericht.cursor(), "0:4");
  EXPECT_EQ(repeats.Value(), 1.0);
}

// One delivery per signal per cursor position: a stream from a cursor
// between a signal and its repeat does not get the repeat (the subscriber had
// the signal before that cursor); the catch-up reader learns that from the
// records just before the cursor.
TEST(AbonnementTest, AStreamFromACursorAfterTheOriginalDoesNotGetTheRepeat) {
  FakeLog log(1);
  log.Append(0, "org-a", "a1");
  log.Append(0, "org-b", "b1");
  log.Append(0, "org-a", "a1");  // routing's repeat
  log.Append(0, "org-a", "a2");
  Abonnement::Options options;
  options.poll_timeout = absl::Milliseconds(1);
  Abonnement abonnement("org-a", Cursor{{{0, 1}}}, log.Source().open, nullptr, options, {});
  abonnement.Start();
  std::vector<Aflevering> got = Take(abonnement.buffer(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bericht.signaal().signaal_id(), "a2");
  EXPECT_EQ(got[0].bericht.cursor(), "0:4");
  // Beyond the window the log is not consulted: with a window of 0 the same
  // cursor sees the repeat (which is why the window must cover routing's
  // batches).
  options.repeat_window = 0;
  Abonnement unguarded("org-a", Cursor{{{0, 1}}}, log.Source().open, nullptr, options, {});
  unguarded.Start();
  got = Take(unguarded.buffer(), 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].bericht.signaal().signaal_id(), "a1");
}

// The same signal routed to two organisations is no repeat for either.
TEST(AbonnementTest, TheSameSignalForAnotherOrganisationIsNoRepeat) {
  std::deque<kafka::InRecord> records = {Record(0, 0, "org-b", "s1"), Record(0, 1, "org-a", "s1")};
  auto abonnement = Make("org-a", std::make_unique<FakeReader>(records), Cursor{}, 10);
  abonnement->Start();
  std::vector<Aflevering> got = Take(abonnement->buffer(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bericht.signaal().signaal_id(), "s1");
}

}  // namespace
}  // namespace inbeeld::delivery

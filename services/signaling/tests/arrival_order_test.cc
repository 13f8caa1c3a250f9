#include "inbeeld/signaling/arrival_order.h"

#include "gtest/gtest.h"

namespace inbeeld::signaling {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

kafka::InRecord Rec(const std::string& topic, int32_t partition, int64_t offset, int64_t accepted_ms) {
  kafka::InRecord r;
  r.topic = topic;
  r.partition = partition;
  r.offset = offset;
  r.timestamp_ms = accepted_ms;
  return r;
}

// "topic/partition@offset" of each record, in order.
std::vector<std::string> Names(const std::vector<kafka::InRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.topic + "/" + std::to_string(r.partition) + "@" + std::to_string(r.offset));
  return out;
}

const kafka::TopicPartition kInschrijving0{"inschrijving", 0};
constexpr size_t kAll = 1'000'000;
const kafka::TopicPartition kVrijstelling0{"vrijstelling", 0};

TEST(ArrivalOrderTest, NothingBehindReleasesEverything) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 7, 1000), kT0);
  order.Add(Rec("vrijstelling", 0, 3, 900), kT0);
  std::vector<kafka::InRecord> out;
  EXPECT_FALSE(order.Release({}, kT0, kAll, &out).forced);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/0@7", "vrijstelling/0@3"}));
  EXPECT_EQ(order.held(), 0u);
}

// The case it exists for: an uitschrijving read while the vrijstelling
// accepted right after it is still unread on another topic.
TEST(ArrivalOrderTest, HoldsARecordUntilAPartitionBehindHasDeliveredWhatWasAcceptedBeforeIt) {
  ArrivalOrder order;
  order.Add(Rec("vrijstelling", 0, 0, 500), kT0);  // read: older records of the slow topic
  order.Add(Rec("vrijstelling", 0, 1, 600), kT0);
  order.Add(Rec("inschrijving", 0, 4, 1000), kT0);  // the uitschrijving, accepted at 1000
  std::vector<kafka::InRecord> out;
  order.Release({kVrijstelling0}, kT0, kAll, &out);
  // The vrijstelling partition is behind and has delivered up to 600 only
  // (and may hold more of 600 itself).
  EXPECT_EQ(Names(out), (std::vector<std::string>{"vrijstelling/0@0"}));
  EXPECT_EQ(order.held(), 2u);

  order.Add(Rec("vrijstelling", 0, 2, 1001), kT0);  // the vrijstelling, accepted right after
  out.clear();
  order.Release({kVrijstelling0}, kT0, kAll, &out);
  // Before 1001: the uitschrijving goes, the vrijstelling waits for its own
  // partition's next record (or for that partition to be caught up).
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/0@4", "vrijstelling/0@1"}));
  out.clear();
  order.Release({}, kT0, kAll, &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"vrijstelling/0@2"}));
}

TEST(ArrivalOrderTest, SameMillisecondWaitsWhileThePartitionBehindMayHoldMoreOfIt) {
  ArrivalOrder order;
  order.Add(Rec("vrijstelling", 0, 0, 1000), kT0);
  order.Add(Rec("inschrijving", 0, 0, 1000), kT0);
  std::vector<kafka::InRecord> out;
  order.Release({kVrijstelling0}, kT0, kAll, &out);
  EXPECT_TRUE(out.empty());
  order.Release({kInschrijving0}, kT0, kAll, &out);  // now the other one is the partition behind
  EXPECT_TRUE(out.empty());
  order.Release({}, kT0, kAll, &out);
  EXPECT_EQ(out.size(), 2u);
}

TEST(ArrivalOrderTest, CountsTheRecordsAddedSinceTheLastReleaseThatStayHeld) {
  ArrivalOrder order;
  std::vector<kafka::InRecord> out;
  order.Add(Rec("inschrijving", 0, 0, 1000), kT0);
  order.Add(Rec("inschrijving", 0, 1, 1001), kT0);
  EXPECT_EQ(order.Release({kVrijstelling0}, kT0 + absl::Milliseconds(1), kAll, &out).newly_held, 2u);
  // Still held, but not new: not counted again.
  order.Add(Rec("inschrijving", 0, 2, 1002), kT0 + absl::Milliseconds(2));
  EXPECT_EQ(order.Release({kVrijstelling0}, kT0 + absl::Milliseconds(3), kAll, &out).newly_held, 1u);
  EXPECT_EQ(order.Release({}, kT0 + absl::Milliseconds(4), kAll, &out).newly_held, 0u);
  EXPECT_EQ(out.size(), 3u);
}

TEST(ArrivalOrderTest, APartitionBehindThatDeliveredNothingYetHoldsEverything) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 0, 1000), kT0);
  std::vector<kafka::InRecord> out;
  order.Release({kVrijstelling0}, kT0, kAll, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(order.held(), 1u);
}

TEST(ArrivalOrderTest, ReleasesPerPartitionAPrefixInOffsetOrder) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 10, 100), kT0);
  order.Add(Rec("inschrijving", 0, 11, 300), kT0);
  // A producer's clock may step back: offset 12 has an earlier time than 11,
  // yet it must not overtake 11 (the stored offset would skip 11).
  order.Add(Rec("inschrijving", 0, 12, 150), kT0);
  order.Add(Rec("vrijstelling", 0, 5, 200), kT0);
  std::vector<kafka::InRecord> out;
  order.Release({kVrijstelling0}, kT0, kAll, &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/0@10"}));
  EXPECT_EQ(order.held(), 3u);
}

TEST(ArrivalOrderTest, ARecordWithoutATimestampIsNeverHeld) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 0, -1), kT0);
  std::vector<kafka::InRecord> out;
  order.Release({kVrijstelling0}, kT0, kAll, &out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(ArrivalOrderTest, NothingWaitsLongerThanMaxHold) {
  ArrivalOrder order({.max_hold = absl::Milliseconds(500), .max_held = 1000});
  order.Add(Rec("inschrijving", 0, 0, 1000), kT0);
  std::vector<kafka::InRecord> out;
  EXPECT_FALSE(order.Release({kVrijstelling0}, kT0 + absl::Milliseconds(499), kAll, &out).forced);
  EXPECT_TRUE(out.empty());
  order.Add(Rec("inschrijving", 0, 1, 1001), kT0 + absl::Milliseconds(499));
  EXPECT_TRUE(order.Release({kVrijstelling0}, kT0 + absl::Milliseconds(500), kAll, &out).forced);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/0@0", "inschrijving/0@1"}));
}

TEST(ArrivalOrderTest, NoMoreThanMaxHeldWait) {
  ArrivalOrder order({.max_hold = absl::Hours(1), .max_held = 2});
  std::vector<kafka::InRecord> out;
  for (int i = 0; i < 3; ++i) {
    order.Add(Rec("inschrijving", 0, i, 1000 + i), kT0);
    EXPECT_EQ(order.Release({kVrijstelling0}, kT0, kAll, &out).forced, i == 2) << i;
  }
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(order.held(), 0u);
}

// A batch holds at most max_batch_records: the earliest accepted of all
// partitions go, so the batch ends at a moment of acceptance.
TEST(ArrivalOrderTest, AtMostMaxRecordsTheEarliestAcceptedAcrossPartitions) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 0, 100), kT0);
  order.Add(Rec("inschrijving", 0, 1, 400), kT0);
  order.Add(Rec("vrijstelling", 0, 0, 200), kT0);
  order.Add(Rec("vrijstelling", 0, 1, 300), kT0);
  order.Add(Rec("adres", 0, 0, 250), kT0);
  std::vector<kafka::InRecord> out;
  EXPECT_TRUE(order.CanRelease({}, kT0, 5));
  EXPECT_FALSE(order.CanRelease({}, kT0, 6));
  // Before vrijstelling's newest (300): 100, 200 and 250.
  EXPECT_TRUE(order.CanRelease({kVrijstelling0}, kT0, 3));
  EXPECT_FALSE(order.CanRelease({kVrijstelling0}, kT0, 4));
  EXPECT_FALSE(order.Release({}, kT0, 3, &out).forced);
  // 100, 200, 250; in runs per partition.
  EXPECT_EQ(Names(out), (std::vector<std::string>{"adres/0@0", "inschrijving/0@0", "vrijstelling/0@0"}));
  out.clear();
  order.Release({}, kT0, 3, &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/0@1", "vrijstelling/0@1"}));
  EXPECT_EQ(order.held(), 0u);
}

TEST(ArrivalOrderTest, MaxRecordsDoesNotCutInsideAMillisecond) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 0, 100), kT0);
  order.Add(Rec("vrijstelling", 0, 0, 200), kT0);
  order.Add(Rec("adres", 0, 0, 200), kT0);  // the same jongere's, maybe
  std::vector<kafka::InRecord> out;
  order.Release({}, kT0, 2, &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/0@0"}));
  out.clear();
  order.Release({}, kT0, 2, &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"adres/0@0", "vrijstelling/0@0"}));
  // A millisecond larger than max_records goes whole: something must move.
  order.Add(Rec("adres", 0, 1, 300), kT0);
  order.Add(Rec("vrijstelling", 0, 1, 300), kT0);
  order.Add(Rec("inschrijving", 0, 1, 300), kT0);
  out.clear();
  order.Release({}, kT0, 2, &out);
  EXPECT_EQ(out.size(), 2u);
}

TEST(ArrivalOrderTest, DropForgetsTheRevokedPartitionsOfEveryTopic) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 0, 1000), kT0);
  order.Add(Rec("vrijstelling", 0, 0, 900), kT0);
  order.Add(Rec("inschrijving", 1, 0, 1000), kT0);
  order.Drop({0});
  EXPECT_EQ(order.held(), 1u);
  std::vector<kafka::InRecord> out;
  order.Release({}, kT0, kAll, &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/1@0"}));
}

}  // namespace
}  // namespace inbeeld::signaling

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
const kafka::TopicPartition kVrijstelling0{"vrijstelling", 0};

TEST(ArrivalOrderTest, NothingBehindReleasesEverything) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 7, 1000), kT0);
  order.Add(Rec("vrijstelling", 0, 3, 900), kT0);
  std::vector<kafka::InRecord> out;
  order.Release({}, kT0, &out);
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
  order.Release({kVrijstelling0}, kT0, &out);
  // The vrijstelling partition is behind and has delivered up to 600 only
  // (and may hold more of 600 itself).
  EXPECT_EQ(Names(out), (std::vector<std::string>{"vrijstelling/0@0"}));
  EXPECT_EQ(order.held(), 2u);

  order.Add(Rec("vrijstelling", 0, 2, 1001), kT0);  // the vrijstelling, accepted right after
  out.clear();
  order.Release({kVrijstelling0}, kT0, &out);
  // Before 1001: the uitschrijving goes, the vrijstelling waits for its own
  // partition's next record (or for that partition to be caught up).
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/0@4", "vrijstelling/0@1"}));
  out.clear();
  order.Release({}, kT0, &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"vrijstelling/0@2"}));
}

TEST(ArrivalOrderTest, SameMillisecondWaitsWhileThePartitionBehindMayHoldMoreOfIt) {
  ArrivalOrder order;
  order.Add(Rec("vrijstelling", 0, 0, 1000), kT0);
  order.Add(Rec("inschrijving", 0, 0, 1000), kT0);
  std::vector<kafka::InRecord> out;
  order.Release({kVrijstelling0}, kT0, &out);
  EXPECT_TRUE(out.empty());
  order.Release({kInschrijving0}, kT0, &out);  // now the other one is the partition behind
  EXPECT_TRUE(out.empty());
  order.Release({}, kT0, &out);
  EXPECT_EQ(out.size(), 2u);
}

TEST(ArrivalOrderTest, APartitionBehindThatDeliveredNothingYetHoldsEverything) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 0, 1000), kT0);
  std::vector<kafka::InRecord> out;
  order.Release({kVrijstelling0}, kT0, &out);
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
  order.Release({kVrijstelling0}, kT0, &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/0@10"}));
  EXPECT_EQ(order.held(), 3u);
}

TEST(ArrivalOrderTest, ARecordWithoutATimestampIsNeverHeld) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 0, -1), kT0);
  std::vector<kafka::InRecord> out;
  order.Release({kVrijstelling0}, kT0, &out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(ArrivalOrderTest, NothingWaitsLongerThanMaxHold) {
  ArrivalOrder order({.max_hold = absl::Milliseconds(500), .max_held = 1000});
  order.Add(Rec("inschrijving", 0, 0, 1000), kT0);
  std::vector<kafka::InRecord> out;
  order.Release({kVrijstelling0}, kT0 + absl::Milliseconds(499), &out);
  EXPECT_TRUE(out.empty());
  order.Add(Rec("inschrijving", 0, 1, 1001), kT0 + absl::Milliseconds(499));
  order.Release({kVrijstelling0}, kT0 + absl::Milliseconds(500), &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/0@0", "inschrijving/0@1"}));
}

TEST(ArrivalOrderTest, NoMoreThanMaxHeldWait) {
  ArrivalOrder order({.max_hold = absl::Hours(1), .max_held = 2});
  std::vector<kafka::InRecord> out;
  for (int i = 0; i < 3; ++i) {
    order.Add(Rec("inschrijving", 0, i, 1000 + i), kT0);
    order.Release({kVrijstelling0}, kT0, &out);
  }
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(order.held(), 0u);
}

TEST(ArrivalOrderTest, DropForgetsTheRevokedPartitionsOfEveryTopic) {
  ArrivalOrder order;
  order.Add(Rec("inschrijving", 0, 0, 1000), kT0);
  order.Add(Rec("vrijstelling", 0, 0, 900), kT0);
  order.Add(Rec("inschrijving", 1, 0, 1000), kT0);
  order.Drop({0});
  EXPECT_EQ(order.held(), 1u);
  std::vector<kafka::InRecord> out;
  order.Release({}, kT0, &out);
  EXPECT_EQ(Names(out), (std::vector<std::string>{"inschrijving/1@0"}));
}

}  // namespace
}  // namespace inbeeld::signaling

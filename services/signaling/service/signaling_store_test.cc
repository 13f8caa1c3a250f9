#include "signaling_store.h"

#include "child_process.h"
#include "gtest/gtest.h"

namespace inbeeld::signaling {
namespace {

TEST(SignalingStoreTest, BatchCommitsStateWakeupsOffsetsAndHorizonTogether) {
  testing_util::TempDir dir;
  auto store = SignalingStore::Open(dir.path(), false);
  ASSERT_TRUE(store.ok()) << store.status();
  internal::v1::JongereState st;
  st.set_woongemeente("0363");
  StoreBatch b;
  b.PutJongere(2, "abc", st);
  b.MoveWakeup(2, "abc", std::nullopt, absl::CivilDay(2024, 3, 9));
  b.PutOffset({"inbeeld.adresmutaties.v1", 2}, 17);
  b.PutHorizon(2, absl::CivilDay(2024, 3, 1));
  // Nothing is visible before the commit.
  EXPECT_FALSE((*store)->GetOffset({"inbeeld.adresmutaties.v1", 2}).has_value());
  ASSERT_TRUE((*store)->Commit(b).ok());
  auto got = (*store)->GetJongere(2, "abc");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->woongemeente(), "0363");
  EXPECT_EQ((*store)->GetOffset({"inbeeld.adresmutaties.v1", 2}), 17);
  EXPECT_EQ((*store)->GetHorizon(2), absl::CivilDay(2024, 3, 1));
  EXPECT_TRUE((*store)->DueWakeups(2, absl::CivilDay(2024, 3, 8)).empty());
  ASSERT_EQ((*store)->DueWakeups(2, absl::CivilDay(2024, 3, 9)).size(), 1u);
  EXPECT_EQ((*store)->DueWakeups(2, absl::CivilDay(2024, 3, 9))[0].second, "abc");
  EXPECT_TRUE((*store)->DueWakeups(3, absl::CivilDay(2030, 1, 1)).empty());
  auto found = (*store)->FindJongere("abc");
  ASSERT_TRUE(found.ok() && found->has_value());

  StoreBatch move;
  move.MoveWakeup(2, "abc", absl::CivilDay(2024, 3, 9), absl::CivilDay(2024, 4, 1));
  ASSERT_TRUE((*store)->Commit(move).ok());
  EXPECT_TRUE((*store)->DueWakeups(2, absl::CivilDay(2024, 3, 31)).empty());
  EXPECT_EQ((*store)->DueWakeups(2, absl::CivilDay(2024, 4, 1)).size(), 1u);
}

TEST(SignalingStoreTest, ChangesCarryPartitionAndDeletes) {
  StoreBatch b;
  b.MoveWakeup(5, "x", absl::CivilDay(2024, 1, 1), absl::CivilDay(2024, 2, 1));
  b.PutOffset({"t", 7}, 1);
  int deletes = 0;
  for (const auto& [k, v] : b.Changes()) {
    if (v.empty()) ++deletes;
    EXPECT_EQ(StoreBatch::PartitionOfKey(k), k.rfind("o/", 0) == 0 ? 7 : 5) << k;
  }
  EXPECT_EQ(deletes, 1);
}

TEST(SignalingStoreTest, RestoreWritesAndTombstones) {
  testing_util::TempDir dir;
  auto store = SignalingStore::Open(dir.path(), false);
  ASSERT_TRUE(store.ok());
  internal::v1::JongereState st;
  st.set_woongemeente("0599");
  ASSERT_TRUE((*store)->PutRaw({{SignalingStore::JongereKey(1, "p"), st.SerializeAsString()}}).ok());
  EXPECT_TRUE((*(*store)->GetJongere(1, "p")).has_value());
  ASSERT_TRUE((*store)->PutRaw({{SignalingStore::JongereKey(1, "p"), ""}}).ok());
  EXPECT_FALSE((*(*store)->GetJongere(1, "p")).has_value());
}

}  // namespace
}  // namespace inbeeld::signaling

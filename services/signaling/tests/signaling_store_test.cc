#include "inbeeld/signaling/signaling_store.h"

#include <rocksdb/db.h>

#include <algorithm>

#include "inbeeld/signaling/core/state_codec.h"

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

TEST(SignalingStoreTest, ChangelogAppliesWritesAndTombstonesWithItsCheckpoint) {
  testing_util::TempDir dir;
  auto store = SignalingStore::Open(dir.path(), false);
  ASSERT_TRUE(store.ok());
  EXPECT_FALSE((*store)->GetChangelogCheckpoint(1).has_value()) << "a partition never seen here has no checkpoint";
  internal::v1::JongereState st;
  st.set_woongemeente("0599");
  ASSERT_TRUE((*store)->ApplyChangelog(1, {{SignalingStore::JongereKey(1, "p"), st.SerializeAsString()}}, 8).ok());
  EXPECT_TRUE((*(*store)->GetJongere(1, "p")).has_value());
  EXPECT_EQ((*store)->GetChangelogCheckpoint(1), 8);
  ASSERT_TRUE((*store)->ApplyChangelog(1, {{SignalingStore::JongereKey(1, "p"), ""}}, 9).ok());
  EXPECT_FALSE((*(*store)->GetJongere(1, "p")).has_value());
  EXPECT_EQ((*store)->GetChangelogCheckpoint(1), 9);
  EXPECT_FALSE((*store)->GetChangelogCheckpoint(2).has_value());
}

TEST(SignalingStoreTest, CheckpointCommitsWithTheBatchButIsNotAChange) {
  testing_util::TempDir dir;
  auto store = SignalingStore::Open(dir.path(), false);
  ASSERT_TRUE(store.ok());
  StoreBatch b;
  b.PutOffset({"t", 3}, 5);
  b.PutChangelogCheckpoint(3, 42);
  for (const auto& [k, v] : b.Changes()) EXPECT_TRUE(k.rfind("c/", 0) != 0) << k;
  EXPECT_EQ(b.Changes().size(), 1u);
  ASSERT_TRUE((*store)->Commit(b).ok());
  EXPECT_EQ((*store)->GetChangelogCheckpoint(3), 42);
  EXPECT_EQ((*store)->GetOffset({"t", 3}), 5);
}

TEST(SignalingStoreTest, CommitPointsComeLastInTheChanges) {
  // A crash while the changelog is written leaves a prefix; one that ends with
  // an offset or horizon must hold every state and wake-up change of the batch.
  StoreBatch b;
  internal::v1::JongereState st;
  b.PutOffset({"a", 0}, 3);
  b.PutHorizon(0, absl::CivilDay(2024, 3, 1));
  b.PutJongere(0, "zz", st);
  b.MoveWakeup(0, "zz", absl::CivilDay(2024, 1, 1), absl::CivilDay(2024, 2, 1));
  const auto changes = b.Changes();
  ASSERT_EQ(changes.size(), 5u);
  bool seen_commit_point = false;
  for (const auto& [k, v] : changes) {
    if (StoreBatch::IsCommitPoint(k)) {
      seen_commit_point = true;
    } else {
      EXPECT_FALSE(seen_commit_point) << k << " after a commit point";
    }
  }
  EXPECT_TRUE(StoreBatch::IsCommitPoint(changes.back().first));
}

TEST(SignalingStoreTest, AbsorbedBatchChangesAsIfMadeAfterTheOwn) {
  // Shards of one batch, joined: disjoint keys move over; where keys meet,
  // the later batch's put or delete wins.
  internal::v1::JongereState a, b;
  a.set_woongemeente("0363");
  b.set_woongemeente("0599");
  StoreBatch first;
  first.PutJongere(0, "x", a);
  first.MoveWakeup(0, "x", absl::CivilDay(2024, 1, 1), absl::CivilDay(2024, 2, 1));
  first.MoveWakeup(0, "y", std::nullopt, absl::CivilDay(2024, 5, 1));
  StoreBatch later;
  later.PutJongere(1, "z", b);
  later.PutJongere(0, "x", b);
  later.MoveWakeup(0, "x", absl::CivilDay(2024, 2, 1), absl::CivilDay(2024, 3, 1));
  later.MoveWakeup(0, "y", absl::CivilDay(2024, 5, 1), std::nullopt);
  later.PutChangelogCheckpoint(1, 9);

  StoreBatch one;  // the same changes made in one batch, in the same order
  one.PutJongere(0, "x", a);
  one.MoveWakeup(0, "x", absl::CivilDay(2024, 1, 1), absl::CivilDay(2024, 2, 1));
  one.MoveWakeup(0, "y", std::nullopt, absl::CivilDay(2024, 5, 1));
  one.PutJongere(1, "z", b);
  one.PutJongere(0, "x", b);
  one.MoveWakeup(0, "x", absl::CivilDay(2024, 2, 1), absl::CivilDay(2024, 3, 1));
  one.MoveWakeup(0, "y", absl::CivilDay(2024, 5, 1), std::nullopt);

  first.Absorb(std::move(later));
  auto sorted = [](std::vector<std::pair<std::string, std::string>> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(first.Changes()), sorted(one.Changes()));
  EXPECT_EQ(first.size(), one.size());

  testing_util::TempDir dir;
  auto store = SignalingStore::Open(dir.path(), false);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Commit(first).ok());
  EXPECT_EQ((*(*store)->GetJongere(0, "x"))->woongemeente(), "0599");
  EXPECT_EQ((*(*store)->GetJongere(1, "z"))->woongemeente(), "0599");
  EXPECT_TRUE((*store)->DueWakeups(0, absl::CivilDay(2024, 2, 28)).empty());
  EXPECT_EQ((*store)->DueWakeups(0, absl::CivilDay(2030, 1, 1)).size(), 1u) << "x on 2024-03-01; y none";
  EXPECT_EQ((*store)->GetChangelogCheckpoint(1), 9) << "the later batch's checkpoint came along";
}

TEST(SignalingStoreTest, DropPartitionRemovesOnlyThatPartition) {
  testing_util::TempDir dir;
  auto store = SignalingStore::Open(dir.path(), false);
  ASSERT_TRUE(store.ok());
  internal::v1::JongereState st;
  for (int32_t p : {1, 2}) {
    StoreBatch b;
    b.PutJongere(p, "x", st);
    b.MoveWakeup(p, "x", std::nullopt, absl::CivilDay(2024, 3, 9));
    b.PutOffset({"t", p}, 7);
    b.PutHorizon(p, absl::CivilDay(2024, 3, 1));
    b.PutChangelogCheckpoint(p, 11);
    ASSERT_TRUE((*store)->Commit(b).ok());
  }
  ASSERT_TRUE((*store)->DropPartition(1).ok());
  EXPECT_FALSE((*(*store)->GetJongere(1, "x")).has_value());
  EXPECT_TRUE((*store)->DueWakeups(1, absl::CivilDay(2030, 1, 1)).empty());
  EXPECT_FALSE((*store)->GetOffset({"t", 1}).has_value());
  EXPECT_FALSE((*store)->GetHorizon(1).has_value());
  EXPECT_FALSE((*store)->GetChangelogCheckpoint(1).has_value());
  EXPECT_TRUE((*(*store)->GetJongere(2, "x")).has_value());
  EXPECT_EQ((*store)->DueWakeups(2, absl::CivilDay(2030, 1, 1)).size(), 1u);
  EXPECT_EQ((*store)->GetOffset({"t", 2}), 7);
  EXPECT_EQ((*store)->GetChangelogCheckpoint(2), 11);
}

TEST(SignalingStoreTest, ReadsStateWrittenByTheOldFormatAndRewritesItCompact) {
  // A store (or changelog) from before the compact form holds plain
  // serialized JongereStates: they stay readable, and the next write of the
  // jongere uses the compact form.
  testing_util::TempDir dir;
  auto store = SignalingStore::Open(dir.path(), false);
  ASSERT_TRUE(store.ok());
  internal::v1::JongereState st;
  v1::Event* e = st.add_feiten();
  e->mutable_inschrijvingsmutatie()->set_mutatie_id("i1");
  e->mutable_inschrijvingsmutatie()->set_ingangsdatum("2024-08-01");
  st.add_uitgegeven_signaal_ids("0123456789abcdef0123456789abcdef");
  st.set_geevalueerd_tot("2024-08-02");
  st.set_woongemeente("0599");
  const std::string oud = st.SerializeAsString();
  ASSERT_NE(oud.front(), kCompactStateVersion);
  ASSERT_TRUE((*store)->ApplyChangelog(3, {{SignalingStore::JongereKey(3, "p"), oud}}, 1).ok());

  auto got = (*store)->GetJongere(3, "p");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status();
  EXPECT_EQ((*got)->SerializeAsString(), oud);
  int gezien = 0;
  (*store)->ForEachJongere(3, [&](const std::string& p, const internal::v1::JongereState& s) {
    EXPECT_EQ(p, "p");
    EXPECT_EQ(s.SerializeAsString(), oud);
    ++gezien;
  });
  (*store)->ForEachJongere([&](const std::string&, const internal::v1::JongereState& s) {
    EXPECT_EQ(s.SerializeAsString(), oud);
    ++gezien;
  });
  EXPECT_EQ(gezien, 2);

  StoreBatch b;
  b.PutJongere(3, "p", **got);
  const auto changes = b.Changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].second.front(), kCompactStateVersion);  // what the changelog carries
  EXPECT_LT(changes[0].second.size(), oud.size());
  ASSERT_TRUE((*store)->Commit(b).ok());
  got = (*store)->GetJongere(3, "p");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->SerializeAsString(), oud);
}

TEST(SignalingStoreTest, PseudonymsInKeysAsBytesAndOldHexKeysMigratedOnOpen) {
  const std::string hex(64, 'a');
  const std::string hex2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  internal::v1::JongereState st;
  st.set_woongemeente("0363");
  testing_util::TempDir dir;
  {
    // A store as the previous version left it: keys with the hex pseudonym,
    // a protobuf value.
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "j/0002/" + hex, st.SerializeAsString()).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "w/0002/2024-03-09/" + hex, "1").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "o/inbeeld.adresmutaties.v1/0002", "17").ok());
    delete db;
  }
  auto store = SignalingStore::Open(dir.path(), false);
  ASSERT_TRUE(store.ok()) << store.status();
  auto got = (*store)->GetJongere(2, hex);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->woongemeente(), "0363");
  const auto due = (*store)->DueWakeups(2, absl::CivilDay(2024, 3, 9));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].second, hex);
  EXPECT_EQ((*store)->GetOffset({"inbeeld.adresmutaties.v1", 2}), 17);
  std::vector<std::string> gezien;
  (*store)->ForEachJongere([&](const std::string& p, const internal::v1::JongereState&) { gezien.push_back(p); });
  EXPECT_EQ(gezien, std::vector<std::string>{hex});  // migrated, not duplicated

  // New keys: half the pseudonym's size; a changelog record of either form
  // lands on the same key.
  EXPECT_EQ(SignalingStore::JongereKey(2, hex2).size(), 7u + 33u);
  EXPECT_EQ(SignalingStore::CurrentKey("j/0002/" + hex2), SignalingStore::JongereKey(2, hex2));
  EXPECT_EQ(SignalingStore::CurrentKey(SignalingStore::JongereKey(2, hex2)), SignalingStore::JongereKey(2, hex2));
  EXPECT_EQ(SignalingStore::CurrentKey("o/t/0002"), "o/t/0002");
  st.set_woongemeente("0599");
  ASSERT_TRUE((*store)->ApplyChangelog(3, {{"j/0003/" + hex2, st.SerializeAsString()}}, 1).ok());
  got = (*store)->GetJongere(3, hex2);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->woongemeente(), "0599");
  StoreBatch b;
  b.MoveWakeup(3, hex2, std::nullopt, absl::CivilDay(2024, 5, 1));
  for (const auto& [k, v] : b.Changes()) {
    EXPECT_EQ(StoreBatch::PartitionOfKey(k), 3);
    EXPECT_EQ(k.size(), 18u + 33u);
  }
  ASSERT_TRUE((*store)->Commit(b).ok());
  ASSERT_EQ((*store)->DueWakeups(3, absl::CivilDay(2024, 5, 1)).size(), 1u);
  EXPECT_EQ((*store)->DueWakeups(3, absl::CivilDay(2024, 5, 1))[0].second, hex2);
}

TEST(SignalingStoreTest, CorruptStateIsDataLoss) {
  testing_util::TempDir dir;
  auto store = SignalingStore::Open(dir.path(), false);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->ApplyChangelog(1, {{SignalingStore::JongereKey(1, "p"), std::string("\x01\x05", 2)}}, 1).ok());
  EXPECT_EQ((*store)->GetJongere(1, "p").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace inbeeld::signaling

// The routing store's dedupe bound: a repeat inside the bound is still
// dropped, entries beyond the age or the count bound expire, and the expiry is
// written only by (and with) a commit of offsets. The set of routed ids is
// kept in memory, rebuilt from the stored queue on open; stores of earlier
// versions open with what they remembered.
#include "inbeeld/routing/routing_store.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "rocksdb/db.h"

namespace inbeeld::routing {
namespace {

namespace fs = std::filesystem;

const kafka::TopicPartition kPartition{"inbeeld.signalen.v1", 0};

double Value(prometheus::Registry& registry, std::string_view name) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    if (family.metric.empty()) return -1;
    return family.type == prometheus::MetricType::Gauge ? family.metric[0].gauge.value
                                                        : family.metric[0].counter.value;
  }
  return -1;
}

class RoutingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           absl::StrCat("inbeeld-routing-store-", ::getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  void Open(DedupeBound bound) {
    store_.reset();
    registry_ = std::make_unique<prometheus::Registry>();
    RoutingStoreOptions options;
    options.bound = bound;
    options.clock = &clock_;
    options.registry = registry_.get();
    auto store = RoutingStore::Open(dir_.string(), options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void Commit(std::vector<std::string> ids, int64_t next_offset) {
    ASSERT_TRUE(store_->Commit(ids, {{kPartition, next_offset}}).ok());
  }

  bool Routed(std::string_view id) {
    absl::StatusOr<bool> routed = store_->IsRouted(id);
    EXPECT_TRUE(routed.ok()) << routed.status();
    return routed.value_or(false);
  }

  double Entries() { return Value(*registry_, "inbeeld_routing_dedupe_entries"); }
  double Expired() { return Value(*registry_, "inbeeld_routing_dedupe_expired_total"); }

  fs::path dir_;
  util::ManualClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<RoutingStore> store_;
};

TEST_F(RoutingStoreTest, RepeatInsideTheBoundIsStillKnown) {
  Open({absl::Hours(24), 10});
  Commit({"a"}, 1);
  clock_.Advance(absl::Hours(23));
  Commit({"b", "c"}, 3);
  EXPECT_TRUE(Routed("a"));
  EXPECT_TRUE(Routed("b"));
  EXPECT_FALSE(Routed("d"));
  EXPECT_EQ(Entries(), 3);
  EXPECT_EQ(Expired(), 0);
}

TEST_F(RoutingStoreTest, EntryOlderThanMaxAgeExpiresAtTheNextCommit) {
  Open({absl::Hours(24), 10});
  Commit({"a", "b"}, 2);
  clock_.Advance(absl::Hours(12));
  Commit({"c"}, 3);
  clock_.Advance(absl::Hours(13));  // a, b are 25 h old, c 13 h
  Commit({"d"}, 4);
  EXPECT_FALSE(Routed("a"));
  EXPECT_FALSE(Routed("b"));
  EXPECT_TRUE(Routed("c"));
  EXPECT_TRUE(Routed("d"));
  EXPECT_EQ(Entries(), 2);
  EXPECT_EQ(Expired(), 2);
}

TEST_F(RoutingStoreTest, OldestBeyondMaxEntriesExpire) {
  Open({absl::Hours(24), 3});
  Commit({"a", "b"}, 2);
  Commit({"c", "d"}, 4);
  EXPECT_FALSE(Routed("a"));
  EXPECT_TRUE(Routed("b"));
  EXPECT_TRUE(Routed("c"));
  EXPECT_TRUE(Routed("d"));
  EXPECT_EQ(Entries(), 3);
  EXPECT_EQ(Expired(), 1);
}

TEST_F(RoutingStoreTest, ACommitLargerThanTheBoundKeepsItsNewestIds) {
  Open({absl::Hours(24), 2});
  Commit({"a", "b", "c"}, 3);
  EXPECT_FALSE(Routed("a"));
  EXPECT_TRUE(Routed("b"));
  EXPECT_TRUE(Routed("c"));
  EXPECT_EQ(Entries(), 2);
}

TEST_F(RoutingStoreTest, ExpiryIsWrittenOnlyWithACommitAndSurvivesAReopen) {
  Open({absl::Hours(1), 10});
  Commit({"a"}, 1);
  clock_.Advance(absl::Hours(2));
  // Beyond the bound, but no commit yet: nothing is written outside a commit,
  // so the entry and the offset still agree with each other.
  EXPECT_TRUE(Routed("a"));
  Open({absl::Hours(1), 10});
  EXPECT_TRUE(Routed("a"));
  EXPECT_EQ(Entries(), 1);

  Commit({"b"}, 2);
  Open({absl::Hours(1), 10});
  EXPECT_FALSE(Routed("a"));
  EXPECT_TRUE(Routed("b"));
  auto offset = store_->NextOffset(kPartition);
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, std::optional<int64_t>(2));
  EXPECT_EQ(Entries(), 1);
  // The queue continues after a reopen: "b" is the oldest and goes first.
  Commit({"c"}, 3);
  clock_.Advance(absl::Minutes(90));
  Commit({"d"}, 4);
  EXPECT_FALSE(Routed("b"));
  EXPECT_FALSE(Routed("c"));
  EXPECT_TRUE(Routed("d"));
}

// The store's directory opened as a plain RocksDB (to write it as an earlier version did).
std::unique_ptr<rocksdb::DB> OpenPlain(const fs::path& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  fs::create_directories(dir);
  EXPECT_TRUE(rocksdb::DB::Open(options, dir.string(), &raw).ok());
  return std::unique_ptr<rocksdb::DB>(raw);
}

TEST_F(RoutingStoreTest, StoreFromBeforeTheBoundIsEnqueuedAndExpires) {
  {
    std::unique_ptr<rocksdb::DB> db = OpenPlain(dir_);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "r/oud", "").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "o/inbeeld.signalen.v1/0", "7").ok());
  }
  Open({absl::Hours(1), 10});
  EXPECT_TRUE(Routed("oud"));
  EXPECT_EQ(Entries(), 1);
  clock_.Advance(absl::Hours(2));
  Commit({"nieuw"}, 8);
  EXPECT_FALSE(Routed("oud"));
  EXPECT_TRUE(Routed("nieuw"));
}

// Keys of the store as it is on disk (the store closed).
std::vector<std::string> StoredKeys(const fs::path& dir) {
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir.string(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::string> keys;
  if (db == nullptr) return keys;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
  return keys;
}

TEST_F(RoutingStoreTest, StoreWithRoutedMarkersOpensWithItsQueueAndDropsTheMarkers) {
  // As the previous version wrote it: a queue entry and an "r/" marker per
  // routed id, the queue marker, an offset.
  const std::string hex = "0123456789abcdef0123456789abcdef";
  {
    std::unique_ptr<rocksdb::DB> db = OpenPlain(dir_);
    ASSERT_NE(db, nullptr);
    const std::string ms = absl::StrCat(absl::ToUnixMillis(clock_.Now()));
    for (const auto& [seq, id] : std::vector<std::pair<std::string, std::string>>{
             {"q/0000000000000000", hex}, {"q/0000000000000001", "anders"}}) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), seq, absl::StrCat(ms, ":", id)).ok());
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), absl::StrCat("r/", id), "").ok());
    }
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "m/dedupe-queue", "1").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "o/inbeeld.signalen.v1/0", "9").ok());
  }
  Open({absl::Hours(1), 10});
  EXPECT_TRUE(Routed(hex));
  EXPECT_TRUE(Routed("anders"));
  EXPECT_FALSE(Routed("nooit"));
  EXPECT_EQ(Entries(), 2);
  absl::StatusOr<std::optional<int64_t>> offset = store_->NextOffset(kPartition);
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, std::optional<int64_t>(9));
  store_.reset();
  for (const std::string& key : StoredKeys(dir_)) EXPECT_FALSE(key.starts_with("r/")) << key;
  // And the next version of the store reopens the same: from the queue.
  Open({absl::Hours(1), 10});
  EXPECT_TRUE(Routed(hex));
  EXPECT_TRUE(Routed("anders"));
}

TEST_F(RoutingStoreTest, IdsAreKeptExactlyWhateverTheirForm) {
  const std::string lower = "0123456789abcdef0123456789abcdef";
  const std::string upper = "0123456789ABCDEF0123456789ABCDEF";
  const std::string kort = "0123456789abcdef";
  Open({absl::Hours(1), 10});
  Commit({lower, kort, "", "niet-hex-maar-wel-precies-32-tek"}, 1);
  EXPECT_TRUE(Routed(lower));
  EXPECT_FALSE(Routed(upper));  // another id: kept apart from its lower-case form
  EXPECT_TRUE(Routed(kort));
  EXPECT_TRUE(Routed(""));
  EXPECT_TRUE(Routed("niet-hex-maar-wel-precies-32-tek"));
  EXPECT_FALSE(Routed("0123456789abcdef0123456789abcdee"));  // one digit off
  Commit({upper}, 2);
  EXPECT_TRUE(Routed(upper));
  // Rebuilt from the queue on open: the same answers.
  Open({absl::Hours(1), 10});
  for (const std::string& id : {lower, upper, kort, std::string(), std::string("niet-hex-maar-wel-precies-32-tek")}) {
    EXPECT_TRUE(Routed(id)) << id;
  }
  EXPECT_FALSE(Routed("0123456789abcdef0123456789abcdee"));
}

TEST_F(RoutingStoreTest, ARepeatOfAnExpiringIdInTheSameCommitStaysRouted) {
  Open({absl::Hours(1), 2});
  Commit({"a", "b"}, 1);
  // "a" is the oldest and beyond the count bound after this commit, which
  // routes it again (a repeat older than the bound is routed anew).
  Commit({"a"}, 2);
  EXPECT_TRUE(Routed("a"));
  EXPECT_TRUE(Routed("b"));
  Open({absl::Hours(1), 2});
  EXPECT_TRUE(Routed("a"));
  EXPECT_TRUE(Routed("b"));
}

TEST_F(RoutingStoreTest, BoundMustBePositive) {
  RoutingStoreOptions options;
  options.bound.max_entries = 0;
  EXPECT_FALSE(RoutingStore::Open(dir_.string(), options).ok());
  options.bound = {absl::ZeroDuration(), 10};
  EXPECT_FALSE(RoutingStore::Open(dir_.string(), options).ok());
}

}  // namespace
}  // namespace inbeeld::routing

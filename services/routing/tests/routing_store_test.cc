// The routing store's dedupe bound: a repeat inside the bound is still
// dropped, entries beyond the age or the count bound expire, and the expiry is
// written only by (and with) a commit of offsets.
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

TEST_F(RoutingStoreTest, StoreFromBeforeTheBoundIsEnqueuedAndExpires) {
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    fs::create_directories(dir_);
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
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

TEST_F(RoutingStoreTest, BoundMustBePositive) {
  RoutingStoreOptions options;
  options.bound.max_entries = 0;
  EXPECT_FALSE(RoutingStore::Open(dir_.string(), options).ok());
  options.bound = {absl::ZeroDuration(), 10};
  EXPECT_FALSE(RoutingStore::Open(dir_.string(), options).ok());
}

}  // namespace
}  // namespace inbeeld::routing

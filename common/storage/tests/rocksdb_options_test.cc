#include "inbeeld/storage/rocksdb_options.h"

#include <rocksdb/perf_level.h>
#include <rocksdb/table.h>

#include <thread>

#include "gtest/gtest.h"

namespace inbeeld::storage {
namespace {

// The stores depend on these for their lookups of absent keys (docs/PERFORMANCE.md, routing_store_bench).
TEST(RocksdbOptionsTest, PointLookupsHaveBloomFiltersOnTheMemtableAndEveryTableFile) {
  const rocksdb::Options options = PointLookupOptions();
  EXPECT_TRUE(options.create_if_missing);
  EXPECT_GT(options.memtable_prefix_bloom_size_ratio, 0);
  EXPECT_TRUE(options.memtable_whole_key_filtering);
  ASSERT_NE(options.table_factory, nullptr);
  const auto* table = options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  ASSERT_NE(table, nullptr);
  EXPECT_NE(table->filter_policy, nullptr);
  EXPECT_TRUE(table->whole_key_filtering);
}

TEST(RocksdbOptionsTest, PerfCountersAreOffOnlyOnTheThreadThatAskedForIt) {
  rocksdb::PerfLevel loop = rocksdb::PerfLevel::kUninitialized;
  std::thread([&] {
    DisablePerfCountersOnThisThread();
    loop = rocksdb::GetPerfLevel();
  }).join();
  EXPECT_EQ(loop, rocksdb::PerfLevel::kDisable);
  rocksdb::PerfLevel other = rocksdb::PerfLevel::kUninitialized;
  std::thread([&] { other = rocksdb::GetPerfLevel(); }).join();
  EXPECT_EQ(other, rocksdb::PerfLevel::kEnableCount) << "RocksDB's default, left alone elsewhere";
}

}  // namespace
}  // namespace inbeeld::storage

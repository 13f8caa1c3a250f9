#include "inbeeld/storage/rocksdb_options.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/table.h>

namespace inbeeld::storage {

rocksdb::Options PointLookupOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.memtable_prefix_bloom_size_ratio = 0.1;
  options.memtable_whole_key_filtering = true;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

void DisablePerfCountersOnThisThread() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }

}  // namespace inbeeld::storage

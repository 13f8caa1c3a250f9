#pragma once
// RocksDB options shared by the services' local state stores (signaling, routing).
#include <rocksdb/options.h>

namespace inbeeld::storage {

// Options for a store that is read by point lookups which mostly miss: routing looks up signaal_ids that were
// never routed, signaling in a bulk load jongeren not stored yet. Bloom filters on the memtable and on every
// table file answer a miss without walking the memtable's skip list (~22 % of routing's loop thread before) or
// reading a data block of every table file (a national population is ~300 MB of them). create_if_missing is set.
rocksdb::Options PointLookupOptions();

}  // namespace inbeeld::storage

#pragma once
// RocksDB options of the services' local state stores.
#include <rocksdb/options.h>

namespace inbeeld::storage {

// Options for a store that is read by point lookups which mostly miss: signaling, in a bulk load, looks up
// jongeren not stored yet. Bloom filters on the memtable and on every table file answer a miss without walking the
// memtable's skip list or reading a data block of every table file (a national population is ~300 MB of them).
// create_if_missing is set.
rocksdb::Options PointLookupOptions();

// For the thread that runs a store's reads and writes (a service's loop): RocksDB's per-thread perf counters off.
// They are on by default (PerfLevel::kEnableCount) and nothing reads them; each update is a thread-local access
// through the shared library (__tls_get_addr, the counters' TLS init), ~7 % of routing's loop thread.
void DisablePerfCountersOnThisThread();

}  // namespace inbeeld::storage

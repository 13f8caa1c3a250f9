#include "inbeeld/routing/routing_store.h"

#include <algorithm>
#include <filesystem>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "inbeeld/util/hex.h"

namespace inbeeld::routing {
namespace {

// Key spaces: "o/<topic>/<partition>" next offset, "q/<seq>" → "<unix
// millis>:<signaal_id>" the dedupe entries in the order they were routed (seq:
// 16 hex digits, so keys sort by seq; expiry takes from the front),
// "m/dedupe-queue" marks a store whose every routed id is in the queue. The
// queue is the whole dedupe set: IsRouted answers from an index of its ids in
// memory (RoutedIndex), rebuilt from the queue on open. Stores written before
// kept a marker "r/<signaal_id>" per routed id as well (a random key inserted
// into the memtable's skip list, a third of routing's CPU); those from before
// the bound had only the markers and are enqueued once, then the markers go.
constexpr std::string_view kQueuePrefix = "q/";
constexpr std::string_view kQueueEnd = "q0";  // '0' follows '/'
constexpr std::string_view kQueueMarker = "m/dedupe-queue";
constexpr std::string_view kLegacyRoutedPrefix = "r/";
constexpr std::string_view kLegacyRoutedEnd = "r0";

std::string OffsetKey(const kafka::TopicPartition& tp) {
  return absl::StrCat("o/", tp.topic, "/", tp.partition);
}
std::string QueueKey(int64_t seq) { return absl::StrFormat("q/%016x", seq); }
std::optional<int64_t> QueueSeq(const rocksdb::Slice& key) {
  if (!key.starts_with(rocksdb::Slice(kQueuePrefix.data(), kQueuePrefix.size()))) return std::nullopt;
  uint64_t seq = 0;
  if (!absl::SimpleHexAtoi(absl::string_view(key.data() + 2, key.size() - 2), &seq)) {
    return std::nullopt;
  }
  return static_cast<int64_t>(seq);
}

struct QueueEntry {
  int64_t routed_ms = 0;
  std::string signaal_id;
};
std::optional<QueueEntry> ParseQueueValue(const rocksdb::Slice& value) {
  const absl::string_view v(value.data(), value.size());
  const size_t colon = v.find(':');
  QueueEntry entry;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(v.substr(0, colon), &entry.routed_ms)) {
    return std::nullopt;
  }
  entry.signaal_id = std::string(v.substr(colon + 1));
  return entry;
}

// The signaal_ids of the dedupe queue. A signaal_id as signaling makes it (32
// lowercase hex digits) is kept as its 16 bytes, anything else as is: exact,
// no hash of the id stands in for it. 17 bytes per slot of the hash set, 18
// to 36 per id as it fills (~70 MB at the default bound of 2,000,000 ids).
class RoutedIndex {
 public:
  bool Contains(std::string_view id) const {
    if (const std::optional<Bytes16> b = AsBytes(id)) return hex_.contains(*b);
    return other_.contains(absl::string_view(id.data(), id.size()));
  }
  void Add(std::string_view id) {
    if (const std::optional<Bytes16> b = AsBytes(id)) {
      hex_.insert(*b);
    } else {
      other_.emplace(id);
    }
  }
  void Remove(std::string_view id) {
    if (const std::optional<Bytes16> b = AsBytes(id)) {
      hex_.erase(*b);
    } else {
      other_.erase(absl::string_view(id.data(), id.size()));
    }
  }
 private:
  using Bytes16 = std::pair<uint64_t, uint64_t>;
  // Upper case or not hex: kept as is, so "AB.." and "ab.." stay different ids.
  static std::optional<Bytes16> AsBytes(std::string_view id) { return util::LowerHex128(id); }

  absl::flat_hash_set<Bytes16> hex_;
  absl::flat_hash_set<std::string> other_;
};

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(absl::string_view(what.data(), what.size()), ": ", s.ToString()));
}

struct DedupeMetrics {
  prometheus::Gauge* entries = nullptr;
  prometheus::Counter* expired = nullptr;
};

DedupeMetrics RegisterMetrics(prometheus::Registry* registry) {
  if (registry == nullptr) return {};
  return {&prometheus::BuildGauge()
               .Name("inbeeld_routing_dedupe_entries")
               .Help("signaal_ids the routing dedupe store remembers (bounded by age and count)")
               .Register(*registry)
               .Add({}),
          &prometheus::BuildCounter()
               .Name("inbeeld_routing_dedupe_expired_total")
               .Help("signaal_ids expired from the routing dedupe store (age or count bound)")
               .Register(*registry)
               .Add({})};
}

class RocksRoutingStore final : public RoutingStore {
 public:
  RocksRoutingStore(std::unique_ptr<rocksdb::DB> db, RoutingStoreOptions options, int64_t oldest,
                    int64_t next, RoutedIndex index)
      : db_(std::move(db)),
        bound_(options.bound),
        clock_(options.clock != nullptr ? options.clock : &system_clock_),
        metrics_(RegisterMetrics(options.registry)),
        oldest_seq_(oldest),
        next_seq_(next),
        index_(std::move(index)) {
    if (metrics_.entries != nullptr) metrics_.entries->Set(static_cast<double>(next - oldest));
  }

  absl::StatusOr<bool> IsRouted(std::string_view signaal_id) const override {
    absl::MutexLock lock(&mu_);
    return index_.Contains(signaal_id);
  }

  absl::StatusOr<std::optional<int64_t>> NextOffset(
      const kafka::TopicPartition& tp) const override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), OffsetKey(tp), &value);
    if (s.IsNotFound()) return std::optional<int64_t>();
    if (!s.ok()) return FromRocks(s, "routing store read");
    int64_t offset = 0;
    if (!absl::SimpleAtoi(value, &offset)) {
      return absl::DataLossError(absl::StrCat("routing store: bad offset for ", OffsetKey(tp)));
    }
    return std::optional<int64_t>(offset);
  }

  absl::Status Commit(const std::vector<std::string>& ids,
                      const std::map<kafka::TopicPartition, int64_t>& next_offsets) override {
    absl::MutexLock lock(&mu_);
    const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
    rocksdb::WriteBatch batch;
    int64_t next = next_seq_;
    // Ascending seq, after every earlier entry: the memtable's skip list
    // starts each insert from where the previous one went, so they cost little.
    for (const std::string& id : ids) batch.Put(QueueKey(next++), absl::StrCat(now_ms, ":", id));
    for (const auto& [tp, offset] : next_offsets) batch.Put(OffsetKey(tp), absl::StrCat(offset));
    std::vector<std::string> expired;
    absl::StatusOr<int64_t> oldest = Expire(now_ms, next, batch, expired);
    if (!oldest.ok()) return oldest.status();

    rocksdb::WriteOptions options;
    options.sync = true;  // the outputs are already acknowledged: this must survive a crash
    if (absl::Status s = FromRocks(db_->Write(options, &batch), "routing store commit"); !s.ok()) {
      return s;
    }
    // The index follows what was written: the expired entries of the queue
    // out, then this commit's ids that the bound keeps (a repeat of an
    // expired id stays in).
    for (const std::string& id : expired) index_.Remove(id);
    for (int64_t seq = std::max(*oldest, next_seq_); seq < next; ++seq) {
      index_.Add(ids[static_cast<size_t>(seq - next_seq_)]);
    }
    if (metrics_.expired != nullptr) metrics_.expired->Increment(static_cast<double>(*oldest - oldest_seq_));
    oldest_seq_ = *oldest;
    next_seq_ = next;
    if (metrics_.entries != nullptr) metrics_.entries->Set(static_cast<double>(next - *oldest));
    return absl::OkStatus();
  }

 private:
  // Adds to `batch` the deletes of every entry beyond the bound, oldest
  // first: while there are more than max_entries (counting this commit's ids,
  // queued from next_seq_ to `next`) or the oldest was routed before now −
  // max_age. Returns the new oldest seq; the ids of the expired entries
  // stored before this commit go to `expired`.
  absl::StatusOr<int64_t> Expire(int64_t now_ms, int64_t next, rocksdb::WriteBatch& batch,
                                 std::vector<std::string>& expired) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int64_t cutoff_ms = now_ms - absl::ToInt64Milliseconds(bound_.max_age);
    int64_t oldest = oldest_seq_;
    auto beyond_bound = [&](int64_t routed_ms) {
      return next - oldest > bound_.max_entries || routed_ms < cutoff_ms;
    };
    const std::string upper = QueueKey(next_seq_);
    const rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions read;
    read.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
    for (it->Seek(QueueKey(oldest)); it->Valid(); it->Next()) {
      const std::optional<int64_t> seq = QueueSeq(it->key());
      const std::optional<QueueEntry> entry = ParseQueueValue(it->value());
      if (!seq || !entry) {
        return absl::DataLossError("routing store: malformed dedupe queue entry");
      }
      if (!beyond_bound(entry->routed_ms)) return oldest;
      batch.Delete(it->key());
      expired.push_back(std::move(entry->signaal_id));
      oldest = *seq + 1;
    }
    if (!it->status().ok()) return FromRocks(it->status(), "routing store expiry");
    // A bound smaller than this commit: its own first ids go too (a Delete
    // after a Put in one batch wins).
    oldest = std::max(oldest, next_seq_);
    while (oldest < next && beyond_bound(now_ms)) {
      batch.Delete(QueueKey(oldest));
      ++oldest;
    }
    return oldest;
  }

  std::unique_ptr<rocksdb::DB> db_;
  const DedupeBound bound_;
  util::SystemClock system_clock_;
  const util::Clock* clock_;
  DedupeMetrics metrics_;
  mutable absl::Mutex mu_;
  int64_t oldest_seq_ ABSL_GUARDED_BY(mu_);  // first entry of the queue
  int64_t next_seq_ ABSL_GUARDED_BY(mu_);    // seq of the next routed id
  RoutedIndex index_ ABSL_GUARDED_BY(mu_);   // the ids of the queue [oldest_seq_, next_seq_)
};

// Enqueues the r/ entries of a store written before the bound existed (as
// routed now, so nothing expires early) and returns the queue's [oldest, next).
absl::StatusOr<std::pair<int64_t, int64_t>> OpenQueue(rocksdb::DB& db, const util::Clock& clock) {
  std::string marker;
  rocksdb::Status s = db.Get(rocksdb::ReadOptions(), std::string(kQueueMarker), &marker);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "routing store read");
  if (s.IsNotFound()) {
    rocksdb::WriteBatch batch;
    int64_t seq = 0;
    const int64_t now_ms = absl::ToUnixMillis(clock.Now());
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
    const std::string prefix(kLegacyRoutedPrefix);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const absl::string_view id(it->key().data() + 2, it->key().size() - 2);
      batch.Put(QueueKey(seq++), absl::StrCat(now_ms, ":", id));
    }
    if (!it->status().ok()) return FromRocks(it->status(), "routing store read");
    batch.Put(std::string(kQueueMarker), "1");
    rocksdb::WriteOptions options;
    options.sync = true;
    if (absl::Status w = FromRocks(db.Write(options, &batch), "routing store upgrade"); !w.ok()) {
      return w;
    }
  }
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  it->SeekForPrev(std::string(kQueueEnd));
  std::optional<int64_t> last = it->Valid() ? QueueSeq(it->key()) : std::nullopt;
  if (!last) {
    if (!it->status().ok()) return FromRocks(it->status(), "routing store read");
    return std::make_pair(int64_t{0}, int64_t{0});
  }
  it->Seek(std::string(kQueuePrefix));
  std::optional<int64_t> first = it->Valid() ? QueueSeq(it->key()) : std::nullopt;
  if (!first) return absl::DataLossError("routing store: dedupe queue unreadable");
  return std::make_pair(*first, *last + 1);
}

// The routed markers of a store written before the index was in memory: the
// queue holds every one of their ids (OpenQueue), so they go, in one range
// delete, on the first open.
absl::Status DropLegacyMarkers(rocksdb::DB& db) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions()));
  const std::string prefix(kLegacyRoutedPrefix);
  it->Seek(prefix);
  if (!it->status().ok()) return FromRocks(it->status(), "routing store read");
  if (!it->Valid() || !it->key().starts_with(prefix)) return absl::OkStatus();
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocks(db.DeleteRange(options, db.DefaultColumnFamily(), prefix, std::string(kLegacyRoutedEnd)),
                   "routing store upgrade");
}

// The ids of the queue entries [oldest, next).
absl::StatusOr<RoutedIndex> ReadIndex(rocksdb::DB& db, int64_t oldest, int64_t next) {
  RoutedIndex index;
  const std::string upper = QueueKey(next);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read;
  read.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read));
  for (it->Seek(QueueKey(oldest)); it->Valid(); it->Next()) {
    const std::optional<QueueEntry> entry = ParseQueueValue(it->value());
    if (!QueueSeq(it->key()) || !entry) return absl::DataLossError("routing store: malformed dedupe queue entry");
    index.Add(entry->signaal_id);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "routing store read");
  return index;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RoutingStore>> RoutingStore::Open(const std::string& dir,
                                                                RoutingStoreOptions options) {
  if (options.bound.max_entries <= 0 || options.bound.max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("routing store: the dedupe bound must be positive");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("routing store: ", dir, ": ", ec.message()));
  // No point lookups of ids (the index is in memory): no Bloom filters.
  rocksdb::Options rocks;
  rocks.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocks, dir, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("routing store open ", dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  util::SystemClock system_clock;
  absl::StatusOr<std::pair<int64_t, int64_t>> queue =
      OpenQueue(*db, options.clock != nullptr ? *options.clock : system_clock);
  if (!queue.ok()) return queue.status();
  if (absl::Status dropped = DropLegacyMarkers(*db); !dropped.ok()) return dropped;
  absl::StatusOr<RoutedIndex> index = ReadIndex(*db, queue->first, queue->second);
  if (!index.ok()) return index.status();
  return std::unique_ptr<RoutingStore>(std::make_unique<RocksRoutingStore>(
      std::move(db), options, queue->first, queue->second, std::move(*index)));
}

}  // namespace inbeeld::routing

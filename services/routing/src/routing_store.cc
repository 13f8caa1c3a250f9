#include "inbeeld/routing/routing_store.h"

#include <algorithm>
#include <filesystem>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "inbeeld/storage/rocksdb_options.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace inbeeld::routing {
namespace {

// Key spaces: "r/<signaal_id>" routed marker, "o/<topic>/<partition>" next
// offset, "q/<seq>" → "<unix millis>:<signaal_id>" the dedupe entries in the
// order they were routed (seq: 16 hex digits, so keys sort by seq; expiry
// takes from the front), "m/dedupe-queue" marks a store whose every r/ entry
// is in the queue (stores written before the bound existed are enqueued once).
constexpr std::string_view kQueuePrefix = "q/";
constexpr std::string_view kQueueEnd = "q0";  // '0' follows '/'
constexpr std::string_view kQueueMarker = "m/dedupe-queue";

std::string RoutedKey(std::string_view id) {
  return absl::StrCat("r/", absl::string_view(id.data(), id.size()));
}
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
                    int64_t next)
      : db_(std::move(db)),
        bound_(options.bound),
        clock_(options.clock != nullptr ? options.clock : &system_clock_),
        metrics_(RegisterMetrics(options.registry)),
        oldest_seq_(oldest),
        next_seq_(next) {
    if (metrics_.entries != nullptr) metrics_.entries->Set(static_cast<double>(next - oldest));
  }

  absl::StatusOr<bool> IsRouted(std::string_view signaal_id) const override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), RoutedKey(signaal_id), &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return FromRocks(s, "routing store read");
    return true;
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
    // In key order: the memtable's skip list starts each insert from where the previous one went, so the
    // queue entries (ascending seq, after every earlier one) cost little and the sorted routed markers less
    // than the same markers in random order, interleaved with the queue's end.
    std::vector<std::string> routed_keys;
    routed_keys.reserve(ids.size());
    for (const std::string& id : ids) {
      routed_keys.push_back(RoutedKey(id));
      batch.Put(QueueKey(next++), absl::StrCat(now_ms, ":", id));
    }
    std::sort(routed_keys.begin(), routed_keys.end());
    for (const std::string& key : routed_keys) batch.Put(key, "");
    for (const auto& [tp, offset] : next_offsets) batch.Put(OffsetKey(tp), absl::StrCat(offset));
    absl::StatusOr<int64_t> oldest = Expire(now_ms, ids, next, batch);
    if (!oldest.ok()) return oldest.status();

    rocksdb::WriteOptions options;
    options.sync = true;  // the outputs are already acknowledged: this must survive a crash
    if (absl::Status s = FromRocks(db_->Write(options, &batch), "routing store commit"); !s.ok()) {
      return s;
    }
    if (metrics_.expired != nullptr) metrics_.expired->Increment(static_cast<double>(*oldest - oldest_seq_));
    oldest_seq_ = *oldest;
    next_seq_ = next;
    if (metrics_.entries != nullptr) metrics_.entries->Set(static_cast<double>(next - *oldest));
    return absl::OkStatus();
  }

 private:
  // Adds to `batch` the deletes of every entry beyond the bound, oldest
  // first: while there are more than max_entries (counting this commit's
  // `ids`, queued from next_seq_ on) or the oldest was routed before now −
  // max_age. Returns the new oldest seq.
  absl::StatusOr<int64_t> Expire(int64_t now_ms, const std::vector<std::string>& ids, int64_t next,
                                 rocksdb::WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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
      batch.Delete(RoutedKey(entry->signaal_id));
      oldest = *seq + 1;
    }
    if (!it->status().ok()) return FromRocks(it->status(), "routing store expiry");
    // A bound smaller than this commit: its own first ids go too (a Delete
    // after a Put in one batch wins).
    oldest = std::max(oldest, next_seq_);
    while (oldest < next && beyond_bound(now_ms)) {
      batch.Delete(QueueKey(oldest));
      batch.Delete(RoutedKey(ids[static_cast<size_t>(oldest - next_seq_)]));
      ++oldest;
    }
    return oldest;
  }

  std::unique_ptr<rocksdb::DB> db_;
  const DedupeBound bound_;
  util::SystemClock system_clock_;
  const util::Clock* clock_;
  DedupeMetrics metrics_;
  absl::Mutex mu_;
  int64_t oldest_seq_ ABSL_GUARDED_BY(mu_);  // first entry of the queue
  int64_t next_seq_ ABSL_GUARDED_BY(mu_);    // seq of the next routed id
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
    for (it->Seek("r/"); it->Valid() && it->key().starts_with("r/"); it->Next()) {
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

}  // namespace

absl::StatusOr<std::unique_ptr<RoutingStore>> RoutingStore::Open(const std::string& dir,
                                                                RoutingStoreOptions options) {
  if (options.bound.max_entries <= 0 || options.bound.max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("routing store: the dedupe bound must be positive");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("routing store: ", dir, ": ", ec.message()));
  // Almost every lookup is of a signaal_id never routed (a repeat is the exception).
  const rocksdb::Options rocks = storage::PointLookupOptions();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocks, dir, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("routing store open ", dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  util::SystemClock system_clock;
  absl::StatusOr<std::pair<int64_t, int64_t>> queue =
      OpenQueue(*db, options.clock != nullptr ? *options.clock : system_clock);
  if (!queue.ok()) return queue.status();
  return std::unique_ptr<RoutingStore>(std::make_unique<RocksRoutingStore>(
      std::move(db), options, queue->first, queue->second));
}

}  // namespace inbeeld::routing

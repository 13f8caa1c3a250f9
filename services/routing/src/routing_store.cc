#include "inbeeld/routing/routing_store.h"

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace inbeeld::routing {
namespace {

// Key spaces: "r/<signaal_id>" routed marker, "o/<topic>/<partition>" next offset.
std::string RoutedKey(std::string_view id) {
  return absl::StrCat("r/", absl::string_view(id.data(), id.size()));
}
std::string OffsetKey(const kafka::TopicPartition& tp) {
  return absl::StrCat("o/", tp.topic, "/", tp.partition);
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(absl::string_view(what.data(), what.size()), ": ", s.ToString()));
}

class RocksRoutingStore final : public RoutingStore {
 public:
  explicit RocksRoutingStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

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
    rocksdb::WriteBatch batch;
    for (const std::string& id : ids) batch.Put(RoutedKey(id), "");
    for (const auto& [tp, offset] : next_offsets) batch.Put(OffsetKey(tp), absl::StrCat(offset));
    rocksdb::WriteOptions options;
    options.sync = true;  // the outputs are already acknowledged: this must survive a crash
    return FromRocks(db_->Write(options, &batch), "routing store commit");
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RoutingStore>> RoutingStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("routing store: ", dir, ": ", ec.message()));
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("routing store open ", dir));
  return std::unique_ptr<RoutingStore>(
      std::make_unique<RocksRoutingStore>(std::unique_ptr<rocksdb::DB>(raw)));
}

}  // namespace inbeeld::routing

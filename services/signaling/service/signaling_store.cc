#include "signaling_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::signaling {
namespace {

// Key space (sorted, so prefixes scan):
//   j/<pppp>/<pseudoniem>              JongereState
//   w/<pppp>/<yyyy-mm-dd>/<pseudoniem> wake-up index entry (value "1")
//   h/<pppp>                           horizon: last evaluated day of the partition
//   o/<topic>/<pppp>                   next input offset (decimal)
std::string P(int32_t partition) { return absl::StrFormat("%04d", partition); }
std::string WakeKey(int32_t partition, absl::CivilDay day, const std::string& pseudoniem) {
  return absl::StrCat("w/", P(partition), "/", util::FormatDate(day), "/", pseudoniem);
}
std::string OffsetKey(const kafka::TopicPartition& tp) { return absl::StrCat("o/", tp.topic, "/", P(tp.partition)); }
std::string HorizonKey(int32_t partition) { return absl::StrCat("h/", P(partition)); }

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("rocksdb ", std::string(what), ": ", s.ToString()));
}

}  // namespace

std::string SignalingStore::JongereKey(int32_t partition, const std::string& pseudoniem) {
  return absl::StrCat("j/", P(partition), "/", pseudoniem);
}

void StoreBatch::PutJongere(int32_t partition, const std::string& pseudoniem,
                            const internal::v1::JongereState& state) {
  state.SerializeToString(&puts_[SignalingStore::JongereKey(partition, pseudoniem)]);
}

void StoreBatch::MoveWakeup(int32_t partition, const std::string& pseudoniem, std::optional<absl::CivilDay> old_day,
                            std::optional<absl::CivilDay> new_day) {
  if (old_day == new_day) return;
  if (old_day) {
    const std::string k = WakeKey(partition, *old_day, pseudoniem);
    puts_.erase(k);
    deletes_.push_back(k);
  }
  if (new_day) puts_[WakeKey(partition, *new_day, pseudoniem)] = "1";
}

std::vector<std::pair<std::string, std::string>> StoreBatch::Changes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : deletes_) {
    if (!puts_.contains(k)) out.emplace_back(k, "");
  }
  for (const auto& kv : puts_) out.push_back(kv);
  return out;
}

int32_t StoreBatch::PartitionOfKey(const std::string& key) {
  int32_t p = 0;
  if (key.rfind("o/", 0) == 0) {
    if (!absl::SimpleAtoi(key.substr(key.size() - 4), &p)) p = 0;
  } else if (key.size() >= 6) {
    if (!absl::SimpleAtoi(key.substr(2, 4), &p)) p = 0;
  }
  return p;
}

void StoreBatch::PutOffset(const kafka::TopicPartition& tp, int64_t next_offset) {
  puts_[OffsetKey(tp)] = std::to_string(next_offset);
}

void StoreBatch::PutHorizon(int32_t partition, absl::CivilDay day) { puts_[HorizonKey(partition)] = util::FormatDate(day); }

absl::StatusOr<std::unique_ptr<SignalingStore>> SignalingStore::Open(const std::string& dir, bool sync_writes) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &db);
  if (!s.ok()) return FromRocks(s, "open");
  return std::unique_ptr<SignalingStore>(new SignalingStore(db, sync_writes));
}

SignalingStore::~SignalingStore() { delete db_; }

absl::StatusOr<std::optional<internal::v1::JongereState>> SignalingStore::GetJongere(
    int32_t partition, const std::string& pseudoniem) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), JongereKey(partition, pseudoniem), &value);
  if (s.IsNotFound()) return std::optional<internal::v1::JongereState>();
  if (!s.ok()) return FromRocks(s, "get");
  internal::v1::JongereState state;
  if (!state.ParseFromString(value)) return absl::DataLossError("stored jongere state does not parse");
  return std::optional<internal::v1::JongereState>(std::move(state));
}

absl::StatusOr<std::optional<internal::v1::JongereState>> SignalingStore::FindJongere(
    const std::string& pseudoniem) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  // Few partitions: probe each "j/<pppp>/" prefix.
  for (it->Seek("j/"); it->Valid() && it->key().starts_with("j/"); ) {
    const std::string key = it->key().ToString();
    const std::string prefix = key.substr(0, 7);  // "j/pppp/"
    int32_t partition = 0;
    if (!absl::SimpleAtoi(key.substr(2, 4), &partition)) partition = 0;
    auto got = GetJongere(partition, pseudoniem);
    if (!got.ok() || got->has_value()) return got;
    // Jump to the next partition.
    it->Seek(absl::StrCat("j/", P(partition + 1), "/"));
  }
  return std::optional<internal::v1::JongereState>();
}

std::optional<int64_t> SignalingStore::GetOffset(const kafka::TopicPartition& tp) const {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), OffsetKey(tp), &value).ok()) return std::nullopt;
  int64_t v;
  if (!absl::SimpleAtoi(value, &v)) return std::nullopt;
  return v;
}

std::optional<absl::CivilDay> SignalingStore::GetHorizon(int32_t partition) const {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), HorizonKey(partition), &value).ok()) return std::nullopt;
  auto d = util::ParseDate(value);
  if (!d.ok()) return std::nullopt;
  return *d;
}

std::vector<std::pair<absl::CivilDay, std::string>> SignalingStore::DueWakeups(int32_t partition,
                                                                               absl::CivilDay day) const {
  std::vector<std::pair<absl::CivilDay, std::string>> out;
  const std::string prefix = absl::StrCat("w/", P(partition), "/");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string rest = it->key().ToString().substr(prefix.size());  // yyyy-mm-dd/pseudoniem
    auto d = util::ParseDate(rest.substr(0, 10));
    if (!d.ok()) continue;
    if (*d > day) break;  // sorted by date
    out.emplace_back(*d, rest.substr(11));
  }
  return out;
}

void SignalingStore::ForEachJongere(
    int32_t partition, const std::function<void(const std::string&, const internal::v1::JongereState&)>& fn) const {
  const std::string prefix = absl::StrCat("j/", P(partition), "/");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    internal::v1::JongereState state;
    if (state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      fn(it->key().ToString().substr(prefix.size()), state);
    }
  }
}

void SignalingStore::ForEachJongere(
    const std::function<void(const std::string&, const internal::v1::JongereState&)>& fn) const {
  const std::string prefix = "j/";
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    internal::v1::JongereState state;
    if (!state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) continue;
    // "j/<partition>/<pseudoniem>"
    const std::string key = it->key().ToString();
    const size_t slash = key.find('/', prefix.size());
    if (slash != std::string::npos) fn(key.substr(slash + 1), state);
  }
}

absl::Status SignalingStore::Commit(const StoreBatch& batch) {
  rocksdb::WriteBatch wb;
  for (const auto& k : batch.deletes_) wb.Delete(k);
  for (const auto& [k, v] : batch.puts_) wb.Put(k, v);
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocks(db_->Write(wo, &wb), "commit");
}

absl::Status SignalingStore::PutRaw(const std::map<std::string, std::string>& kvs) {
  rocksdb::WriteBatch wb;
  for (const auto& [k, v] : kvs) {
    if (v.empty()) {
      wb.Delete(k);  // a tombstone in the changelog
    } else {
      wb.Put(k, v);
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocks(db_->Write(wo, &wb), "restore");
}

uint64_t SignalingStore::ApproximateBytes() const {
  uint64_t v = 0;
  db_->GetIntProperty("rocksdb.estimate-live-data-size", &v);
  uint64_t mem = 0;
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return v + mem;
}

}  // namespace inbeeld::signaling

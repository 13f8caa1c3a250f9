#include "inbeeld/signaling/signaling_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "inbeeld/storage/rocksdb_options.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/state_codec.h"

namespace inbeeld::signaling {
namespace {

// Key space (sorted, so prefixes scan):
//   j/<pppp>/<pseudoniem>              JongereState (state_codec.h: compact form,
//                                      or protobuf as written before)
//   w/<pppp>/<yyyy-mm-dd>/<pseudoniem> wake-up index entry (value "1")
//   h/<pppp>                           horizon: last evaluated day of the partition
//   o/<topic>/<pppp>                   next input offset (decimal)
//   c/<pppp>                           changelog checkpoint (decimal; local only)
// <pseudoniem> in a key: a real pseudonym (64 lowercase hex) as a zero byte
// and its 32 bytes, half the size; anything else as is. Stores written before
// had the hex form: Open migrates them, and CurrentKey maps changelog records
// of that time.
constexpr size_t kHexPseudoniem = 64;
constexpr size_t kJongerePrefix = 7;  // "j/pppp/"
constexpr size_t kWakePrefix = 18;    // "w/pppp/yyyy-mm-dd/"

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string KeyPseudoniem(std::string_view p) {
  if (p.size() == kHexPseudoniem && IsLowerHex(p)) {
    return std::string(1, '\0') + absl::HexStringToBytes(absl::string_view(p.data(), p.size()));
  }
  return std::string(p);
}

std::string PseudoniemUitKey(std::string_view k) {
  if (k.size() == kHexPseudoniem / 2 + 1 && k[0] == '\0') {
    return absl::BytesToHexString(absl::string_view(k.data() + 1, k.size() - 1));
  }
  return std::string(k);
}

std::string P(int32_t partition) { return absl::StrFormat("%04d", partition); }
std::string WakeKey(int32_t partition, absl::CivilDay day, const std::string& pseudoniem) {
  return absl::StrCat("w/", P(partition), "/", util::FormatDate(day), "/", KeyPseudoniem(pseudoniem));
}
std::string OffsetKey(const kafka::TopicPartition& tp) { return absl::StrCat("o/", tp.topic, "/", P(tp.partition)); }
std::string HorizonKey(int32_t partition) { return absl::StrCat("h/", P(partition)); }
std::string CheckpointKey(int32_t partition) { return absl::StrCat("c/", P(partition)); }

std::optional<int64_t> ParseInt(const std::string& value) {
  int64_t v;
  if (!absl::SimpleAtoi(value, &v)) return std::nullopt;
  return v;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("rocksdb ", std::string(what), ": ", s.ToString()));
}

}  // namespace

std::string SignalingStore::JongereKey(int32_t partition, const std::string& pseudoniem) {
  return absl::StrCat("j/", P(partition), "/", KeyPseudoniem(pseudoniem));
}

std::string SignalingStore::CurrentKey(const std::string& key) {
  for (const size_t prefix : {kJongerePrefix, kWakePrefix}) {
    if (key.size() == prefix + kHexPseudoniem && key[0] == (prefix == kJongerePrefix ? 'j' : 'w') &&
        IsLowerHex(std::string_view(key).substr(prefix))) {
      return key.substr(0, prefix) + KeyPseudoniem(std::string_view(key).substr(prefix));
    }
  }
  return key;
}

void StoreBatch::PutJongere(int32_t partition, const std::string& pseudoniem,
                            const internal::v1::JongereState& state) {
  puts_[SignalingStore::JongereKey(partition, pseudoniem)] = EncodeJongereState(state);
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

void StoreBatch::Absorb(StoreBatch&& later) {
  for (std::string& k : later.deletes_) {
    puts_.erase(k);
    deletes_.push_back(std::move(k));
  }
  puts_.merge(later.puts_);  // every key not here yet: its node moves over
  for (auto& [k, v] : later.puts_) puts_[k] = std::move(v);
  for (const auto& [p, next] : later.checkpoints_) checkpoints_[p] = next;
  later = StoreBatch();
}

std::vector<std::pair<std::string, std::string>> StoreBatch::Changes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : deletes_) {
    if (!puts_.contains(k)) out.emplace_back(k, "");
  }
  for (const auto& kv : puts_) {
    if (!IsCommitPoint(kv.first)) out.push_back(kv);
  }
  for (const auto& kv : puts_) {
    if (IsCommitPoint(kv.first)) out.push_back(kv);
  }
  return out;
}

bool StoreBatch::IsCommitPoint(const std::string& key) {
  return key.rfind("o/", 0) == 0 || key.rfind("h/", 0) == 0;
}

void StoreBatch::PutChangelogCheckpoint(int32_t partition, int64_t next_offset) {
  checkpoints_[partition] = next_offset;
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
  // Most lookups of a bulk load are of a jongere not stored yet.
  const rocksdb::Options options = storage::PointLookupOptions();
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(options, dir, &db);
  if (!s.ok()) return FromRocks(s, "open");
  std::unique_ptr<SignalingStore> store(new SignalingStore(db, sync_writes));
  if (absl::Status m = store->MigrateKeys(); !m.ok()) return m;
  return store;
}

SignalingStore::~SignalingStore() { delete db_; }

absl::Status SignalingStore::MigrateKeys() {
  rocksdb::WriteBatch wb;
  auto commit = [&]() -> absl::Status {
    if (wb.Count() == 0) return absl::OkStatus();
    rocksdb::WriteOptions wo;
    wo.sync = sync_;
    absl::Status st = FromRocks(db_->Write(wo, &wb), "migrate keys");
    wb.Clear();
    return st;
  };
  for (const char* prefix : {"j/", "w/"}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string key = it->key().ToString();
      const std::string current = CurrentKey(key);
      if (current == key) continue;
      wb.Delete(key);
      wb.Put(current, it->value());
      if (wb.Count() >= 10000) {
        if (absl::Status st = commit(); !st.ok()) return st;
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "migrate keys");
  }
  return commit();
}

absl::StatusOr<std::optional<internal::v1::JongereState>> SignalingStore::GetJongere(
    int32_t partition, const std::string& pseudoniem) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), JongereKey(partition, pseudoniem), &value);
  if (s.IsNotFound()) return std::optional<internal::v1::JongereState>();
  if (!s.ok()) return FromRocks(s, "get");
  absl::StatusOr<internal::v1::JongereState> state = DecodeJongereState(value);
  if (!state.ok()) return state.status();
  return std::optional<internal::v1::JongereState>(*std::move(state));
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
  return ParseInt(value);
}

std::optional<int64_t> SignalingStore::GetChangelogCheckpoint(int32_t partition) const {
  std::string value;
  if (!db_->Get(rocksdb::ReadOptions(), CheckpointKey(partition), &value).ok()) return std::nullopt;
  return ParseInt(value);
}

absl::StatusOr<std::optional<std::string>> SignalingStore::GetRaw(const std::string& key) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get");
  return std::optional<std::string>(std::move(value));
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
    out.emplace_back(*d, PseudoniemUitKey(std::string_view(rest).substr(11)));
  }
  return out;
}

void SignalingStore::ForEachJongere(
    int32_t partition, const std::function<void(const std::string&, const internal::v1::JongereState&)>& fn) const {
  const std::string prefix = absl::StrCat("j/", P(partition), "/");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    absl::StatusOr<internal::v1::JongereState> state =
        DecodeJongereState(std::string_view(it->value().data(), it->value().size()));
    if (state.ok()) fn(PseudoniemUitKey(it->key().ToString().substr(prefix.size())), *state);
  }
}

void SignalingStore::ForEachJongere(
    const std::function<void(const std::string&, const internal::v1::JongereState&)>& fn) const {
  const std::string prefix = "j/";
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    absl::StatusOr<internal::v1::JongereState> decoded =
        DecodeJongereState(std::string_view(it->value().data(), it->value().size()));
    if (!decoded.ok()) continue;
    const internal::v1::JongereState& state = *decoded;
    // "j/<partition>/<pseudoniem>"
    const std::string key = it->key().ToString();
    const size_t slash = key.find('/', prefix.size());
    if (slash != std::string::npos) fn(PseudoniemUitKey(std::string_view(key).substr(slash + 1)), state);
  }
}

absl::Status SignalingStore::Commit(const StoreBatch& batch) {
  rocksdb::WriteBatch wb;
  for (const auto& k : batch.deletes_) wb.Delete(k);
  for (const auto& [k, v] : batch.puts_) wb.Put(k, v);
  for (const auto& [p, next] : batch.checkpoints_) wb.Put(CheckpointKey(p), std::to_string(next));
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocks(db_->Write(wo, &wb), "commit");
}

absl::Status SignalingStore::ApplyChangelog(int32_t partition,
                                            const std::vector<std::pair<std::string, std::string>>& kvs,
                                            int64_t next_offset) {
  rocksdb::WriteBatch wb;
  for (const auto& [k, v] : kvs) {
    if (v.empty()) {
      wb.Delete(CurrentKey(k));  // a tombstone in the changelog
    } else {
      wb.Put(CurrentKey(k), v);
    }
  }
  wb.Put(CheckpointKey(partition), std::to_string(next_offset));
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocks(db_->Write(wo, &wb), "restore");
}

absl::Status SignalingStore::DropPartition(int32_t partition) {
  rocksdb::WriteBatch wb;
  const std::string p = P(partition);
  for (const std::string& prefix : {absl::StrCat("j/", p, "/"), absl::StrCat("w/", p, "/")}) {
    std::string end = prefix;
    end.back() = static_cast<char>('/' + 1);  // just past every key with the prefix
    wb.DeleteRange(prefix, end);
  }
  wb.Delete(HorizonKey(partition));
  wb.Delete(CheckpointKey(partition));
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string suffix = absl::StrCat("/", p);
  for (it->Seek("o/"); it->Valid() && it->key().starts_with("o/"); it->Next()) {
    if (it->key().ends_with(suffix)) wb.Delete(it->key());
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocks(db_->Write(wo, &wb), "drop partition");
}

uint64_t SignalingStore::ApproximateBytes() const {
  uint64_t v = 0;
  db_->GetIntProperty("rocksdb.estimate-live-data-size", &v);
  uint64_t mem = 0;
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return v + mem;
}

}  // namespace inbeeld::signaling

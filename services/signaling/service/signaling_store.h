#pragma once
// The signaling service's local state in RocksDB: per-jongere state, the
// wake-up index of timers, the horizon per partition and the input offsets.
// Everything a batch changes is written in ONE WriteBatch, so state and input
// offsets can never disagree after a crash (offsets live inside the store).
// The only file that knows RocksDB.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "inbeeld/internal/v1/state.pb.h"
#include "inbeeld/kafka/kafka.h"

namespace rocksdb {
class DB;
}

namespace inbeeld::signaling {

// Changes of one batch, committed atomically.
class StoreBatch {
 public:
  void PutJongere(int32_t partition, const std::string& pseudoniem, const internal::v1::JongereState& state);
  // Replaces the jongere's wake-up entry (old → new; either may be absent).
  void MoveWakeup(int32_t partition, const std::string& pseudoniem, std::optional<absl::CivilDay> old_day,
                  std::optional<absl::CivilDay> new_day);
  void PutOffset(const kafka::TopicPartition& tp, int64_t next_offset);
  void PutHorizon(int32_t partition, absl::CivilDay day);
  bool empty() const { return puts_.empty() && deletes_.empty(); }
  size_t size() const { return puts_.size(); }
  // Every change as (key, value); a delete has an empty value. The changelog
  // carries exactly these, so a restore replays the same writes.
  std::vector<std::pair<std::string, std::string>> Changes() const;
  // The partition a store key belongs to (its last or second path element).
  static int32_t PartitionOfKey(const std::string& key);

 private:
  friend class SignalingStore;
  std::map<std::string, std::string> puts_;
  std::vector<std::string> deletes_;
};

class SignalingStore {
 public:
  static absl::StatusOr<std::unique_ptr<SignalingStore>> Open(const std::string& dir, bool sync_writes);
  ~SignalingStore();

  absl::StatusOr<std::optional<internal::v1::JongereState>> GetJongere(int32_t partition,
                                                                       const std::string& pseudoniem) const;
  // Looks the jongere up in any partition (LeerplichtService.Status).
  absl::StatusOr<std::optional<internal::v1::JongereState>> FindJongere(const std::string& pseudoniem) const;
  std::optional<int64_t> GetOffset(const kafka::TopicPartition& tp) const;
  std::optional<absl::CivilDay> GetHorizon(int32_t partition) const;
  // Jongeren of a partition whose wake-up day is <= day.
  std::vector<std::pair<absl::CivilDay, std::string>> DueWakeups(int32_t partition, absl::CivilDay day) const;
  // Every jongere of a partition (start-up gauges, restore checks).
  void ForEachJongere(int32_t partition,
                      const std::function<void(const std::string&, const internal::v1::JongereState&)>& fn) const;
  // Every jongere of every partition in the store (the live telling).
  void ForEachJongere(const std::function<void(const std::string&, const internal::v1::JongereState&)>& fn) const;
  absl::Status Commit(const StoreBatch& batch);
  // Raw access for changelog restore: the key/value as in the store.
  absl::Status PutRaw(const std::map<std::string, std::string>& kvs);
  uint64_t ApproximateBytes() const;

  // Keys, exposed for the changelog (which carries the same key space).
  static std::string JongereKey(int32_t partition, const std::string& pseudoniem);

 private:
  explicit SignalingStore(rocksdb::DB* db, bool sync) : db_(db), sync_(sync) {}
  rocksdb::DB* db_;
  bool sync_;
};

}  // namespace inbeeld::signaling

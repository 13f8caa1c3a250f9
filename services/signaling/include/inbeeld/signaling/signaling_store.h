#pragma once
// The signaling service's local state in RocksDB: per-jongere state, the
// wake-up index of timers, the horizon per partition, the input offsets and,
// per partition, the changelog checkpoint (the next changelog offset the local
// state reflects). Everything a batch changes is written in ONE WriteBatch, so
// state, input offsets and checkpoint can never disagree after a crash
// (offsets live inside the store). The only file that knows RocksDB.
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
  // The next changelog offset of `partition` once this batch is committed: its
  // changelog records are acknowledged up to next_offset - 1. Local only (not
  // one of Changes(): its value is known only after the changelog is written).
  void PutChangelogCheckpoint(int32_t partition, int64_t next_offset);
  // Takes over the changes of `later` as if they had been made here after
  // this batch's own (a later put or delete of the same key wins). The
  // signaling loop stages a batch's jongeren per shard and joins the shards
  // with it; their keys are disjoint, so the map nodes just move.
  void Absorb(StoreBatch&& later);
  bool empty() const { return puts_.empty() && deletes_.empty(); }
  size_t size() const { return puts_.size(); }
  // Every change as (key, value); a delete has an empty value. The changelog
  // carries exactly these, so a restore replays the same writes. The commit
  // points (input offsets, horizon) come last: a crash while the changelog is
  // written leaves a prefix of each partition's records, and a prefix that
  // ends with a commit point holds every state and wake-up change before it.
  std::vector<std::pair<std::string, std::string>> Changes() const;
  // The partition a store key belongs to (its last or second path element).
  static int32_t PartitionOfKey(const std::string& key);
  // True for the keys that end a batch's changelog records of a partition
  // (input offsets and horizon): a restore applies the changelog up to the
  // last of them and leaves the rest (a batch cut short by a crash).
  static bool IsCommitPoint(const std::string& key);

 private:
  friend class SignalingStore;
  std::map<std::string, std::string> puts_;
  std::vector<std::string> deletes_;
  std::map<int32_t, int64_t> checkpoints_;
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
  // The next changelog offset the local state of `partition` reflects; nullopt
  // when the partition was never restored or committed here.
  std::optional<int64_t> GetChangelogCheckpoint(int32_t partition) const;
  // A raw value by store key (as the changelog carries it), nullopt if absent.
  absl::StatusOr<std::optional<std::string>> GetRaw(const std::string& key) const;
  // Jongeren of a partition whose wake-up day is <= day.
  std::vector<std::pair<absl::CivilDay, std::string>> DueWakeups(int32_t partition, absl::CivilDay day) const;
  // Every jongere of a partition (start-up gauges, restore checks).
  void ForEachJongere(int32_t partition,
                      const std::function<void(const std::string&, const internal::v1::JongereState&)>& fn) const;
  // Every jongere of every partition in the store (the live telling).
  void ForEachJongere(const std::function<void(const std::string&, const internal::v1::JongereState&)>& fn) const;
  absl::Status Commit(const StoreBatch& batch);
  // Applies changelog records of `partition` in log order (an empty value is a
  // tombstone; keys of the old hex form are mapped by CurrentKey) and sets its checkpoint to next_offset, in one WriteBatch.
  absl::Status ApplyChangelog(int32_t partition, const std::vector<std::pair<std::string, std::string>>& kvs,
                              int64_t next_offset);
  // Removes everything of `partition` (state, wake-ups, horizon, offsets,
  // checkpoint) before it is restored from the changelog's beginning.
  absl::Status DropPartition(int32_t partition);
  uint64_t ApproximateBytes() const;

  // Keys, exposed for the changelog (which carries the same key space).
  static std::string JongereKey(int32_t partition, const std::string& pseudoniem);
  // A key as this version writes it: jongere and wake-up keys with the
  // pseudonym in hex (written before the compact form) get its 32 bytes;
  // every other key is returned as is. Restore maps changelog keys with it
  // before collecting them, so an old record and a newer one of the same
  // jongere meet under one key and the newer wins.
  static std::string CurrentKey(const std::string& key);

 private:
  explicit SignalingStore(rocksdb::DB* db, bool sync) : db_(db), sync_(sync) {}
  // Rewrites jongere and wake-up keys of the old hex form (once, on open).
  absl::Status MigrateKeys();
  rocksdb::DB* db_;
  bool sync_;
};

}  // namespace inbeeld::signaling

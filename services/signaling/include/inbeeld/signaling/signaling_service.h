#pragma once
// The signaling service: consumes the four co-partitioned event topics, runs
// the domain core per jongere, and writes signals to inbeeld.signalen.v1.
//
// A batch is what ArrivalOrder releases of the records polled: in the order
// ingest accepted them across the four topics, as far as read. Its jongeren
// are applied on --apply-threads threads (ShardWorkers): each record goes to
// the shard of its key, so a jongere's events stay on one thread and in
// order; the shards' states, outputs and store changes are then joined into
// the one batch that the steps below produce and commit.
//
// Exactly-once effect without broker transactions, per batch:
//   1. apply the batch's records to the jongeren (state in memory),
//   2. produce the signals (and DLQ records); once they are all acknowledged,
//      produce the changelog records,
//   3. once those are acknowledged too, commit states + wake-up index + input
//      offsets in ONE RocksDB WriteBatch.
// Batches are pipelined: while batch n's outputs are in flight, batch n+1 is
// polled and applied on top of batch n's (uncommitted) states, and its
// signals are produced. Batches commit strictly in order, and a batch's
// changelog is produced only after its own signals and every earlier batch's
// changelog: a crash loses the uncommitted batches n, n+1, ... together, the
// restart replays them all from the stored offsets. A crash before 3 replays
// the batch: the core emits the same signals with the same deterministic ids
// (deduplicated downstream by signaal_id); a crash after 3 resumes after it. A record that cannot be
// decoded or breaks the contract goes to "<topic>.dlq" with the error in
// headers, and its offset is committed with the batch.
//
// With transactions (--exactly-once=transactions, a transactional producer):
// one batch in flight, and its outputs and changelog in one Kafka transaction
// (produced together: they become visible together or not at all), committed
// after all were acknowledged and before step 3. A crash
// before that commit aborts them (read_committed readers never see them) and
// the restart replays the batch; a crash between the transaction commit and
// step 3 leaves a committed changelog ahead of the local checkpoint, which the
// restart's restore catches up from (docs/ARCHITECTURE.md "Exactly once").
#include <atomic>
#include <deque>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/signaling/arrival_order.h"
#include "inbeeld/signaling/core/config.h"
#include "inbeeld/signaling/core/jongere.h"
#include "inbeeld/signaling/shard_workers.h"
#include "inbeeld/signaling/signaling_store.h"

namespace inbeeld::signaling {

// Where "today" comes from: the wall clock in live mode, a date file in tests
// (event time: the test moves the date and the next tick fires the timers).
class DateSource {
 public:
  virtual ~DateSource() = default;
  virtual absl::CivilDay Today() const = 0;
};
class SystemDateSource final : public DateSource {
 public:
  absl::CivilDay Today() const override;
};
class FileDateSource final : public DateSource {
 public:
  explicit FileDateSource(std::string path) : path_(std::move(path)) {}
  absl::CivilDay Today() const override;  // the date in the file; 1900-01-01 when unreadable

 private:
  std::string path_;
};

struct SignalingOptions {
  CoreConfig core;
  // Under load the batch wait closes a batch long before this; the more of a
  // jongere's events share a batch, the fewer state loads, recomputations
  // and changelog records per event (docs/PERFORMANCE.md).
  int max_batch_records = 5000;
  absl::Duration max_batch_wait = absl::Milliseconds(100);
  // Input in the order ingest accepted it across the event topics (ArrivalOrder).
  ArrivalOrder::Options arrival;
  // Threads that apply a batch's jongeren (decode, load, rules, encode), each
  // jongere on one of them; producing and committing stay on the loop's
  // thread. 1 = the loop's thread alone.
  int apply_threads = 2;
  // How often timers are evaluated (they fire on dates; hourly is plenty live).
  absl::Duration tick = absl::Hours(1);
  absl::Duration flush_timeout = absl::Seconds(30);
  // Batches applied whose outputs are not yet acknowledged and committed; 1 =
  // stop-and-wait (the next batch waits for the previous one's commit).
  int max_batches_in_flight = 4;
  // Each batch in a Kafka transaction (the producer must be transactional); forces one batch in flight
  // (librdkafka: one open transaction per producer).
  bool transactions = false;
  // Tests only (tests/kafka/txn_test.sh, INBEELD_TEST_HOLD_TRANSACTION): each
  // transaction stays open this long after its records were acknowledged,
  // before its commit, so that a kill -9 lands inside one.
  absl::Duration hold_transaction = absl::ZeroDuration();
};

class SignalingService {
 public:
  SignalingService(SignalingStore& store, kafka::Producer& producer, const identity::Pseudonymizer& pseudonymizer,
                   const DateSource& dates, kafka::ClientOptions kafka_options, SignalingOptions options);

  // The consumer options for the event topics (assignment hooks included).
  kafka::ConsumerOptions ConsumerOptionsFor(const std::string& group_id);

  // One loop iteration: poll a batch, process, flush, commit; tick when due.
  // An error means nothing of the batch was committed: the caller exits and
  // the restart resumes from the stored offsets (crash-only recovery).
  absl::Status RunOnce(kafka::Consumer& consumer);
  // Runs until Stop(); then finishes the current batch and every batch in
  // flight.
  absl::Status Run(kafka::Consumer& consumer);
  // Waits until every batch in flight is acknowledged and committed.
  absl::Status Drain();
  void Stop() { stop_ = true; }

  // Evaluates timers of every assigned partition up to yesterday (public for tests).
  absl::Status Tick();

 private:
  struct Pending {
    int32_t partition;
    Jongere jongere;
    std::optional<absl::CivilDay> old_wakeup;
    // The wake-up day staged for this batch (Stage): a later batch that
    // continues from this state starts from it instead of recomputing it.
    std::optional<absl::CivilDay> new_wakeup;
    bool was_av = false;
    bool was_uit_beeld = false;
    std::string old_gemeente;
    std::string ingest_time;  // ce_time of the latest event applied in this batch
  };
  struct BatchContext {
    BatchContext() = default;
    // Moved, never copied: `index` points into `jongeren`'s nodes, which a
    // move hands over as they are and a copy would not.
    BatchContext(BatchContext&&) = default;
    BatchContext(const BatchContext&) = delete;
    BatchContext& operator=(const BatchContext&) = delete;

    std::map<std::string, Pending> jongeren;  // by pseudoniem, in order (outputs in a reproducible order)
    // The same entries by hash: every event and every signal looks its
    // jongere up (here and in each batch in flight), a tree walk of 64-digit
    // keys each time. Views into `jongeren`'s keys, whose nodes stay put.
    absl::flat_hash_map<std::string_view, Pending*> index;

    Pending* Find(std::string_view pseudoniem) const {
      auto it = index.find(pseudoniem);
      return it == index.end() ? nullptr : it->second;
    }
    Pending* Add(const std::string& pseudoniem, Pending p) {
      auto it = jongeren.emplace(pseudoniem, std::move(p)).first;
      index.emplace(it->first, &it->second);
      return &it->second;
    }
    // Takes over a shard of the same batch (its jongeren are not here: a
    // jongere's records all go to one shard). The map's nodes move as they
    // are, so the index's views and pointers stay valid.
    void Absorb(BatchContext&& shard);
    std::vector<kafka::OutRecord> outputs;
    StoreBatch store;
    // The CloudEvents time of the batch's signals: when the batch emitted
    // them (formatted once per batch, not per signal).
    std::string ce_time;
  };
  // Delivery reports of one phase of a batch (called on the producer's thread).
  struct Acks {
    absl::Mutex mu;
    size_t outstanding ABSL_GUARDED_BY(mu) = 0;
    absl::Status first_error ABSL_GUARDED_BY(mu);
    // Highest acknowledged offset per partition (the changelog checkpoint).
    std::map<int32_t, int64_t> last_offset ABSL_GUARDED_BY(mu);
  };
  // A batch applied and produced, not yet committed.
  struct InFlight {
    std::unique_ptr<BatchContext> ctx;
    std::shared_ptr<Acks> acks;
    bool changelog_produced = false;
    absl::Time deadline;  // for the current phase's acknowledgements
    std::map<kafka::TopicPartition, int64_t> consumed;  // for the group's lag view
  };

  absl::StatusOr<Pending*> Load(BatchContext& ctx, int32_t partition, const std::string& pseudoniem);
  // Stages the batch's jongeren into its StoreBatch (state + wake-up index).
  void Stage(BatchContext& ctx);
  // Produces without waiting; each delivery report is counted in `acks`.
  absl::Status ProduceAsync(const std::vector<kafka::OutRecord>& records, const std::shared_ptr<Acks>& acks);
  // Moves the batches in flight on: changelog after outputs, commit after
  // changelog, in order. `wait` blocks until the oldest batch is committed.
  absl::Status Advance(bool wait);
  absl::Status CommitBatch(InFlight& batch);
  // Produces the batch's changelog records (its StoreBatch's changes) into batch.acks.
  absl::Status ProduceChangelog(InFlight& batch);
  // A batch's outputs begin a transaction (transactions only).
  absl::Status Begin();
  int BatchesInFlight() const { return options_.transactions ? 1 : std::max(options_.max_batches_in_flight, 1); }
  // Applies the batch's records to its jongeren (Process, AdvanceBatch, Stage),
  // sharded over the apply threads when there are enough records.
  absl::Status Apply(BatchContext& ctx, const std::vector<kafka::InRecord>& records, absl::CivilDay horizon);
  // The records of one shard, in order, then its jongeren's timers and staging.
  absl::Status ApplyShard(BatchContext& ctx, const std::vector<const kafka::InRecord*>& records,
                          absl::CivilDay horizon);
  absl::Status Process(BatchContext& ctx, const kafka::InRecord& record, absl::CivilDay horizon);
  void AdvanceBatch(BatchContext& ctx, absl::CivilDay horizon);
  void Emit(BatchContext& ctx, int32_t partition, const std::vector<v1::Signaal>& signals,
            const std::string& ingest_time);
  void ToDlq(BatchContext& ctx, const kafka::InRecord& record, const absl::Status& error);
  // Stages, produces and drains one batch (the timer tick): outputs, then
  // the changelog, then the store commit; the order is the guarantee.
  absl::Status Finish(BatchContext& ctx);
  void OnAssign(const std::vector<kafka::TopicPartition>& parts);
  void OnRevoke(const std::vector<kafka::TopicPartition>& parts);
  // Brings the local state of `partition` up to the changelog's end: from its
  // checkpoint, or from the beginning when it has none.
  absl::Status Restore(int32_t partition);
  absl::Status RepairChangelogTail(int32_t partition, const std::vector<std::pair<std::string, std::string>>& tail);
  void AdjustGauges(const std::string& old_gemeente, bool was_av, bool was_ub, const Jongere& now, int sign = 1);

  SignalingStore& store_;
  kafka::Producer& producer_;
  const identity::Pseudonymizer& pseudonymizer_;
  const DateSource& dates_;
  const kafka::ClientOptions kafka_options_;
  const SignalingOptions options_;
  std::atomic<bool> stop_{false};
  absl::Time next_tick_ = absl::InfinitePast();

  // Oldest first. Touched only by the loop thread (the revoke hook runs on it
  // too, inside Poll).
  std::deque<InFlight> in_flight_;
  // Records polled and not yet processed (loop thread; OnRevoke drops a revoked partition's).
  ArrivalOrder arrival_;
  // The apply threads. While they run, the loop's thread runs shard 0 and
  // nothing else touches in_flight_ (which they read for newer states).
  ShardWorkers workers_;
  // The first failure of a batch in flight: the loop stops, the restart
  // replays every uncommitted batch from the stored offsets.
  absl::Status failure_;
  std::map<kafka::TopicPartition, int64_t> lag_offsets_;  // committed, not yet told to the group
  uint64_t commits_ = 0;

  absl::Mutex mu_;
  std::set<int32_t> partitions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inbeeld::signaling

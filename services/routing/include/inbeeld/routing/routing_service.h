#pragma once
// The routing loop: inbeeld.signalen.v1 → inbeeld.aflevering.v1 (one record
// per responsible organisation, key = organisation id).
//
// Exactly-once effect (TEAM.md): a batch is polled (up to max_batch_records
// or max_batch_time), routed, and its outputs sent (BatchOutputs); only once
// Kafka acknowledged every one of them are its signaal_ids and next input
// offsets written to the RoutingStore in one WriteBatch. A crash between the
// acknowledgement and the commit repeats the batch on restart; the repeat
// carries the same signaal_ids, so it is recognisably the same. Offsets come
// from the store on assignment (start_offset), never from the group; the
// group commit afterwards only feeds lag dashboards.
//
// Pipelined (batches_in_flight > 1): batch n+1 is polled, routed and sent
// while batch n's acknowledgements are outstanding. Commits stay in batch
// order, each after its own outputs are acknowledged. A signaal_id routed by
// a batch in flight counts as routed, like a committed one, so a signal
// repeated across two batches in flight is routed once.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/routing/batch_outputs.h"
#include "inbeeld/routing/router.h"
#include "inbeeld/routing/routing_store.h"
#include "inbeeld/routing/tabel_watcher.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace inbeeld::routing {

struct RoutingServiceOptions {
  kafka::ClientOptions kafka;  // bootstrap servers, client id, extra properties
  std::string group_id = "inbeeld-routing";
  std::string input_topic = std::string(kafka::kTopicSignalen);
  std::string output_topic = std::string(kafka::kTopicAflevering);
  int max_batch_records = 2000;
  absl::Duration max_batch_time = absl::Milliseconds(200);
  // How long a batch's outputs may wait for acknowledgements before they are
  // produced again (nothing is committed until they are acknowledged).
  absl::Duration flush_timeout = absl::Seconds(10);
  // Batches routed and sent but not yet committed, at most. 1: stop-and-wait
  // (each batch committed before the next is polled).
  int batches_in_flight = 4;
  // Tests: makes the producer (null: kafka::Producer::Create).
  std::function<absl::StatusOr<std::unique_ptr<kafka::Producer>>(const kafka::ClientOptions&)>
      producer_factory;
  int session_timeout_ms = 10000;
  // --accept-loss: gaps in inbeeld.signalen.v1 the operator gave up on; any
  // other gap stops its partition (kafka::Consumer, records-lost log + metric).
  std::vector<kafka::AcceptedLoss> accepted_losses;
  // --exactly-once=transactions: a transactional_id makes each batch's outputs one Kafka transaction, committed
  // instead of the flush (a crash before the commit aborts them: delivery reads read_committed).
  kafka::TransactionOptions transactions;
};

class RoutingService {
 public:
  // Creates the producer and the consumer (subscribed, not yet polling).
  // `store`, `bron` and `registry` must outlive the service.
  static absl::StatusOr<std::unique_ptr<RoutingService>> Create(RoutingServiceOptions options,
                                                                RoutingStore& store,
                                                                TabelBron bron,
                                                                prometheus::Registry& registry);
  ~RoutingService();
  RoutingService(const RoutingService&) = delete;
  RoutingService& operator=(const RoutingService&) = delete;

  // Runs the loop on a thread named "routing-loop".
  void Start();
  // Lets the batches in hand finish (acknowledged, committed), closes the
  // consumer and joins the thread. Returns the loop's error, if it failed.
  // Idempotent.
  absl::Status Stop();
  // Polls, routes and sends one batch on the calling thread (tests drive the
  // loop with this instead of Start), committing the batches in flight whose
  // outputs are acknowledged meanwhile; with batches_in_flight batches in
  // flight it waits for the oldest, and when the poll brought nothing it
  // waits for all. Returns the number of input records committed.
  absl::StatusOr<int> RunBatch();
  // Commits, in batch order, the batches in flight whose outputs are
  // acknowledged, without waiting (RunBatch does this too; tests call it to
  // look between batches). Returns the number of input records committed.
  absl::StatusOr<int> CommitAcknowledged() { return Advance(/*wait=*/false); }
  // The loop's error once it failed (OK while it runs).
  absl::Status status() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Metrics;
  // What one batch did, applied to metrics after commit.
  struct Uitkomst {
    std::map<std::string, int> routed;  // organisation id → copies
    int unknown = 0;
    int ambiguous = 0;
    int duplicates = 0;
    std::map<std::string, int> dlq;  // source topic → records
  };
  // A batch routed and sent, not yet committed.
  struct InFlight {
    std::vector<kafka::OutRecord> outputs;  // kept to be sent again
    std::unique_ptr<BatchOutputs> sent;
    std::vector<std::string> routed_ids;  // the dedupe entries it commits, in routing order
    absl::flat_hash_set<std::string> routed;  // the same, to look up
    std::map<kafka::TopicPartition, int64_t> next_offsets;
    Uitkomst uitkomst;
    int records = 0;  // input records
  };

  RoutingService(RoutingServiceOptions options, RoutingStore& store, TabelBron bron,
                 prometheus::Registry& registry);
  void Loop();
  // Routes `batch` and sends its outputs; the batch joins in_flight_.
  absl::Status Route(std::vector<kafka::InRecord> batch);
  // Routed before: earlier in this batch, by a batch in flight, or committed.
  absl::StatusOr<bool> AlreadyRouted(const std::string& signaal_id,
                                     const absl::flat_hash_set<std::string>& in_batch) const;
  // Commits the oldest batches whose outputs are acknowledged, in batch
  // order. Outputs Kafka did not acknowledge are sent again (with those of
  // every later batch in flight, so the last copies keep routing order).
  // `wait`: blocks until at least one batch is committed. Returns the input
  // records committed.
  absl::StatusOr<int> Advance(bool wait);
  // Advance until nothing is in flight.
  absl::StatusOr<int> Drain();
  absl::Status Commit(InFlight& batch);
  // The offsets of the batches committed since the last call, to the
  // consumer group: lag dashboards and `wait-consumed` read them there (the
  // store holds the offsets routing resumes from).
  void CommitGroupOffsets();
  // Transactions only: the batch's outputs in one transaction, retried until
  // it commits (or fenced, or stopping).
  absl::Status ProduceTransaction(const std::vector<kafka::OutRecord>& outputs);
  absl::Status ProduceAll(const std::vector<kafka::OutRecord>& records);
  absl::Status ProduceAndFlush(const std::vector<kafka::OutRecord>& records);
  kafka::OutRecord DeadLetter(const kafka::InRecord& record, std::string_view error) const;
  void RefreshInfo(const std::shared_ptr<const OrganisatieTabel>& tabel);
  void OnAssign(const std::vector<kafka::TopicPartition>& partitions);
  void OnRevoke(const std::vector<kafka::TopicPartition>& partitions);

  const RoutingServiceOptions options_;
  RoutingStore& store_;
  TabelBron bron_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::Consumer> consumer_;

  // Records polled for the batch being collected; the consumer's revoke
  // callback (on the loop thread, inside Poll) drops revoked partitions.
  std::vector<kafka::InRecord> pending_;
  std::shared_ptr<const OrganisatieTabel> info_tabel_;  // table the info gauges show
  // Oldest first; only the loop thread (and the revoke hook inside its Poll)
  // touches it.
  std::deque<InFlight> in_flight_;
  // The first failure: the loop stops; the restart repeats every
  // uncommitted batch from the stored offsets.
  absl::Status failure_;
  // Committed to the store (or found there on assignment), not yet told to
  // the group (lag metrics only; not from inside the rebalance hooks).
  std::map<kafka::TopicPartition, int64_t> lag_offsets_;

  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  absl::Status loop_status_ ABSL_GUARDED_BY(mu_);
  bool stopped_ = false;
};

}  // namespace inbeeld::routing

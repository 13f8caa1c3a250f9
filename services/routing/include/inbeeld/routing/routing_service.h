#pragma once
// The routing loop: inbeeld.signalen.v1 → inbeeld.aflevering.v1 (one record
// per responsible organisation, key = organisation id).
//
// Exactly-once effect (TEAM.md): a batch is polled (up to max_batch_records
// or max_batch_time), routed, produced and Flush()ed (delivery-acked) BEFORE
// its signaal_ids and next input offsets are written to the RoutingStore in
// one WriteBatch. A crash between flush and commit repeats the batch on
// restart; the repeat carries the same signaal_ids, so it is recognisably the
// same. Offsets come from the store on assignment (start_offset), never from
// the group; the group commit afterwards only feeds lag dashboards.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
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
  int max_batch_records = 500;
  absl::Duration max_batch_time = absl::Milliseconds(200);
  // How long one Flush may wait for acknowledgements before the batch is
  // produced again (nothing is committed until a Flush succeeds).
  absl::Duration flush_timeout = absl::Seconds(10);
  int session_timeout_ms = 10000;
  // --accept-loss: gaps in inbeeld.signalen.v1 the operator gave up on; any
  // other gap stops its partition (kafka::Consumer, records-lost log + metric).
  std::vector<kafka::AcceptedLoss> accepted_losses;
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
  // Lets the current batch finish (produce, flush, commit), closes the
  // consumer and joins the thread. Returns the loop's error, if it failed.
  // Idempotent.
  absl::Status Stop();
  // Polls and handles one batch on the calling thread (tests drive the loop
  // with this instead of Start). Returns the number of input records
  // committed.
  absl::StatusOr<int> RunBatch();
  // The loop's error once it failed (OK while it runs).
  absl::Status status() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Metrics;
  struct Uitkomst;  // what one batch did, applied to metrics after commit

  RoutingService(RoutingServiceOptions options, RoutingStore& store, TabelBron bron,
                 prometheus::Registry& registry);
  void Loop();
  absl::StatusOr<int> ProcessBatch(std::vector<kafka::InRecord> batch);
  absl::Status ProduceAll(const std::vector<kafka::OutRecord>& records);
  kafka::OutRecord DeadLetter(const kafka::InRecord& record, std::string_view error) const;
  void RefreshInfo(const std::shared_ptr<const OrganisatieTabel>& tabel);
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

  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Mutex mu_;
  absl::Status loop_status_ ABSL_GUARDED_BY(mu_);
  bool stopped_ = false;
};

}  // namespace inbeeld::routing

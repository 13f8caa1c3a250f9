#include "inbeeld/routing/routing_service.h"

#include <pthread.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "inbeeld/storage/rocksdb_options.h"
#include "inbeeld/util/log.h"

namespace inbeeld::routing {
namespace {

// How many records RunBatch polls between two looks at the batches in flight.
constexpr size_t kAdvanceEvery = 64;

absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

// Backoff between attempts to produce a batch Kafka did not acknowledge.
constexpr absl::Duration kRetryBackoff = absl::Milliseconds(500);

}  // namespace

struct RoutingService::Metrics {
  explicit Metrics(prometheus::Registry& registry)
      : routed(prometheus::BuildCounter()
                   .Name("inbeeld_routing_signals_routed_total")
                   .Help("Signal copies delivered to inbeeld.aflevering.v1, by organisation")
                   .Register(registry)),
        unknown(prometheus::BuildCounter()
                    .Name("inbeeld_routing_unknown_routes_total")
                    .Help("Signals (partly) routed to the onbekend organisation")
                    .Register(registry)
                    .Add({})),
        ambiguous(prometheus::BuildCounter()
                      .Name("inbeeld_routing_ambiguous_routes_total")
                      .Help("Signals with a split gemeente's old code, sent to every successor")
                      .Register(registry)
                      .Add({})),
        duplicates(prometheus::BuildCounter()
                       .Name("inbeeld_routing_duplicates_total")
                       .Help("Signals skipped because their signaal_id was already routed")
                       .Register(registry)
                       .Add({})),
        dlq(prometheus::BuildCounter()
                .Name("inbeeld_kafka_dlq_records_total")
                .Help("Records sent to a dead-letter topic, by source topic.")
                .Register(registry)),
        overlapped(prometheus::BuildCounter()
                       .Name("inbeeld_routing_batches_overlapped_total")
                       .Help("Batches routed and sent while an earlier batch was still in flight "
                             "(outputs not yet acknowledged, or not yet committed)")
                       .Register(registry)
                       .Add({})),
        info(prometheus::BuildGauge()
                 .Name("inbeeld_routing_gemeente_organisatie_info")
                 .Help("1 per (gemeente, organisatie) pair of the loaded organisation table")
                 .Register(registry)) {}

  prometheus::Family<prometheus::Counter>& routed;
  prometheus::Counter& unknown;
  prometheus::Counter& ambiguous;
  prometheus::Counter& duplicates;
  prometheus::Family<prometheus::Counter>& dlq;
  prometheus::Counter& overlapped;
  prometheus::Family<prometheus::Gauge>& info;
  std::vector<prometheus::Gauge*> info_gauges;
};

RoutingService::RoutingService(RoutingServiceOptions options, RoutingStore& store,
                               TabelBron bron, prometheus::Registry& registry)
    : options_(std::move(options)),
      store_(store),
      bron_(std::move(bron)),
      metrics_(std::make_unique<Metrics>(registry)) {
  // Present at 0 from the start, so the DLQ panel and alert see a series
  // before the first poison record (rate()/increase() need a baseline).
  metrics_->dlq.Add({{"topic", options_.input_topic}});
}

RoutingService::~RoutingService() { Stop().IgnoreError(); }

absl::StatusOr<std::unique_ptr<RoutingService>> RoutingService::Create(
    RoutingServiceOptions options, RoutingStore& store, TabelBron bron,
    prometheus::Registry& registry) {
  std::unique_ptr<RoutingService> service(
      new RoutingService(std::move(options), store, std::move(bron), registry));
  RoutingService* self = service.get();

  kafka::ClientOptions producer_options = self->options_.kafka;
  producer_options.client_id = absl::StrCat(A(self->options_.kafka.client_id), "-routing");
  absl::StatusOr<std::unique_ptr<kafka::Producer>> producer =
      self->options_.producer_factory ? self->options_.producer_factory(producer_options)
                                      : kafka::Producer::Create(producer_options, self->options_.transactions);
  if (!producer.ok()) return producer.status();
  self->producer_ = *std::move(producer);

  kafka::ConsumerOptions consumer_options;
  static_cast<kafka::ClientOptions&>(consumer_options) = self->options_.kafka;
  consumer_options.group_id = self->options_.group_id;
  consumer_options.topics = {self->options_.input_topic};
  consumer_options.session_timeout_ms = self->options_.session_timeout_ms;
  consumer_options.accepted_losses = self->options_.accepted_losses;
  consumer_options.start_offset =
      [self](const kafka::TopicPartition& tp) -> std::optional<int64_t> {
    absl::StatusOr<std::optional<int64_t>> offset = self->store_.NextOffset(tp);
    if (!offset.ok()) {
      // Starting from the beginning re-routes what was routed: repeats, not
      // losses, and every repeat is deduplicated by signaal_id.
      util::LogError("routing store: cannot read offset, starting at the beginning",
                     {{"topic", tp.topic}, {"error", std::string(offset.status().message())}});
      return std::nullopt;
    }
    util::LogInfo("partition assigned",
                  {{"topic", tp.topic},
                   {"partition", absl::StrCat(tp.partition)},
                   {"start_offset", offset->has_value() ? absl::StrCat(**offset) : "0 (nothing stored)"}});
    return *offset;
  };
  consumer_options.on_assign = [self](const std::vector<kafka::TopicPartition>& partitions) {
    self->OnAssign(partitions);
  };
  consumer_options.on_revoke = [self](const std::vector<kafka::TopicPartition>& partitions) {
    self->OnRevoke(partitions);
  };
  absl::StatusOr<std::unique_ptr<kafka::Consumer>> consumer =
      kafka::Consumer::Create(consumer_options);
  if (!consumer.ok()) return consumer.status();
  self->consumer_ = *std::move(consumer);
  self->RefreshInfo(self->bron_());
  return service;
}

void RoutingService::OnAssign(const std::vector<kafka::TopicPartition>& partitions) {
  // Tell the group what the store holds (committed at the end of the loop,
  // CommitGroupOffsets). A group commit is asynchronous and refused during a
  // rebalance; an instance that keeps its partitions and gets no new input
  // would otherwise leave the group's offsets behind for good: a backlog on
  // the lag dashboards and for `wait-consumed` that is not there.
  for (const kafka::TopicPartition& tp : partitions) {
    absl::StatusOr<std::optional<int64_t>> next = store_.NextOffset(tp);
    if (next.ok() && next->has_value()) lag_offsets_[tp] = **next;
  }
}

void RoutingService::OnRevoke(const std::vector<kafka::TopicPartition>& partitions) {
  // Batches in flight may hold these partitions' records: commit them while
  // the partitions are still ours (a failure is kept in failure_ and ends the
  // loop; nothing uncommitted is lost, the next owner repeats it).
  (void)Drain();
  // Nothing of the collected batch was produced yet (that happens after
  // Poll): dropping the records is safe, their offsets were not committed.
  std::set<kafka::TopicPartition> revoked(partitions.begin(), partitions.end());
  std::erase_if(pending_, [&](const kafka::InRecord& r) {
    return revoked.count({r.topic, r.partition}) > 0;
  });
}

void RoutingService::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "routing-loop");
    storage::DisablePerfCountersOnThisThread();  // the store is used from this thread only
    Loop();
  });
}

void RoutingService::Loop() {
  while (true) {
    // Stopping: the batches in flight finish first.
    absl::StatusOr<int> n = stop_.load() ? Drain() : RunBatch();
    if (n.ok() && stop_.load() && in_flight_.empty()) {
      CommitGroupOffsets();
      return;
    }
    if (!n.ok()) {
      util::LogError("routing loop stopped", {{"error", std::string(n.status().message())}});
      absl::MutexLock lock(&mu_);
      loop_status_ = n.status();
      return;
    }
  }
}

absl::Status RoutingService::Stop() {
  if (stopped_) {
    absl::MutexLock lock(&mu_);
    return loop_status_;
  }
  stopped_ = true;
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  // After the last commit: leaving the group revokes nothing pending.
  if (consumer_) consumer_->Close();
  if (producer_) producer_->Flush(options_.flush_timeout).IgnoreError();
  absl::MutexLock lock(&mu_);
  return loop_status_;
}

absl::Status RoutingService::status() {
  absl::MutexLock lock(&mu_);
  return loop_status_;
}

absl::StatusOr<int> RoutingService::RunBatch() {
  if (!failure_.ok()) return failure_;
  int committed = 0;
  auto fail = [this](absl::Status s) {
    if (failure_.ok()) failure_ = s;
    return s;
  };
  pending_.clear();
  const absl::Time deadline = absl::Now() + options_.max_batch_time;
  bool idle = true;  // the last poll brought nothing (or none yet)
  while (static_cast<int>(pending_.size()) < options_.max_batch_records && !stop_.load()) {
    // Batches in flight are committed while this one fills; the poll then
    // waits only briefly. After an empty poll and every kAdvanceEvery records,
    // not after every record: each look takes the batches' locks, and
    // acknowledgements come per produce request, far less often than records.
    if (!in_flight_.empty() && (idle || pending_.size() % kAdvanceEvery == 0)) {
      absl::StatusOr<int> n = Advance(/*wait=*/false);
      if (!n.ok()) return n.status();
      committed += *n;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    const absl::Duration wait = std::min(left, in_flight_.empty() ? absl::Milliseconds(100) : absl::Milliseconds(5));
    absl::StatusOr<std::optional<kafka::InRecord>> record = consumer_->Poll(wait);
    if (!record.ok()) return fail(record.status());
    // The revoke hook (inside Poll) drains; its failure ends the loop.
    if (!failure_.ok()) return failure_;
    idle = !record->has_value();
    if (!idle) pending_.push_back(**std::move(record));
  }
  if (pending_.empty()) {
    // Nothing new: let the batches in flight finish rather than wait for
    // the window to fill.
    absl::StatusOr<int> n = Drain();
    if (!n.ok()) return n.status();
    CommitGroupOffsets();
    return committed + *n;
  }
  if (absl::Status s = Route(std::move(pending_)); !s.ok()) return fail(s);
  pending_.clear();
  while (static_cast<int>(in_flight_.size()) >= std::max(options_.batches_in_flight, 1)) {
    absl::StatusOr<int> n = Advance(/*wait=*/true);
    if (!n.ok()) return n.status();
    committed += *n;
  }
  CommitGroupOffsets();
  return committed;
}

void RoutingService::CommitGroupOffsets() {
  if (lag_offsets_.empty()) return;
  if (absl::Status s = consumer_->CommitOffsets(lag_offsets_); !s.ok()) {
    util::LogWarn("group offset commit failed (lag metrics only)", {{"error", std::string(s.message())}});
  }
  lag_offsets_.clear();
}

kafka::OutRecord RoutingService::DeadLetter(const kafka::InRecord& record,
                                            std::string_view error) const {
  kafka::OutRecord out;
  out.topic = kafka::DlqTopic(record.topic);
  out.key = record.key;
  out.value = record.value;
  out.headers = record.headers;
  out.headers.push_back({std::string(kafka::kHeaderDlqError), std::string(error)});
  out.headers.push_back({std::string(kafka::kHeaderDlqTopic), record.topic});
  out.headers.push_back({std::string(kafka::kHeaderDlqPartition), absl::StrCat(record.partition)});
  out.headers.push_back({std::string(kafka::kHeaderDlqOffset), absl::StrCat(record.offset)});
  return out;
}

absl::StatusOr<bool> RoutingService::AlreadyRouted(const std::string& signaal_id,
                                                   const absl::flat_hash_set<std::string>& in_batch) const {
  if (in_batch.count(signaal_id) > 0) return true;
  // Routed by a batch in flight: not in the store yet, but its outputs are
  // on their way and it commits before any later batch.
  for (const InFlight& batch : in_flight_) {
    if (batch.routed.count(signaal_id) > 0) return true;
  }
  return store_.IsRouted(signaal_id);
}

absl::Status RoutingService::Route(std::vector<kafka::InRecord> batch) {
  std::shared_ptr<const OrganisatieTabel> tabel = bron_();
  RefreshInfo(tabel);

  InFlight routed;
  Uitkomst& uitkomst = routed.uitkomst;
  std::vector<kafka::OutRecord>& outputs = routed.outputs;
  absl::flat_hash_set<std::string>& in_batch = routed.routed;
  routed.records = static_cast<int>(batch.size());

  kafka::AdvanceNextOffsets(batch, routed.next_offsets);
  v1::Signaal signaal;  // parsed into again for every record: its strings keep their buffers
  for (const kafka::InRecord& record : batch) {
    if (!signaal.ParseFromString(record.value)) {
      outputs.push_back(DeadLetter(record, "value is not a serialized inbeeld.v1.Signaal"));
      ++uitkomst.dlq[record.topic];
      continue;
    }
    if (signaal.signaal_id().empty()) {
      outputs.push_back(DeadLetter(record, "signaal_id is empty"));
      ++uitkomst.dlq[record.topic];
      continue;
    }
    absl::StatusOr<bool> seen = AlreadyRouted(signaal.signaal_id(), in_batch);
    if (!seen.ok()) return seen.status();
    if (*seen) {
      ++uitkomst.duplicates;
      continue;
    }
    absl::StatusOr<Bestemmingen> bestemmingen = BestemmingenVan(*tabel, signaal);
    if (!bestemmingen.ok()) {
      outputs.push_back(DeadLetter(record, std::string(bestemmingen.status().message())));
      ++uitkomst.dlq[record.topic];
      continue;
    }
    const std::optional<std::string_view> ingest_time =
        kafka::FindHeaderView(record.headers, kafka::kHeaderIngestTime);
    // Each copy is the received bytes with its organisation's fields
    // appended (AppendAfleveringVelden): parsed, they are VulAflevering's copy.
    for (const std::string& organisatie_id : bestemmingen->organisatie_ids) {
      kafka::OutRecord out;
      out.topic = options_.output_topic;
      out.key = organisatie_id;
      out.value.reserve(record.value.size() + organisatie_id.size() + bestemmingen->vorige_organisatie.size() + 16);
      out.value = record.value;
      AppendAfleveringVelden(*bestemmingen, organisatie_id, &out.value);
      if (ingest_time) out.headers.push_back({std::string(kafka::kHeaderIngestTime), std::string(*ingest_time)});
      outputs.push_back(std::move(out));
      ++uitkomst.routed[organisatie_id];
    }
    if (bestemmingen->onbekend) ++uitkomst.unknown;
    if (bestemmingen->ambigu) ++uitkomst.ambiguous;
    in_batch.insert(signaal.signaal_id());
    routed.routed_ids.push_back(signaal.signaal_id());
  }

  if (producer_->Transactional()) {
    // One batch in flight: its transaction is committed (acknowledged)
    // before the next batch is polled.
    if (absl::Status s = ProduceTransaction(routed.outputs); !s.ok()) return s;
    routed.sent = BatchOutputs::AlreadyAcknowledged();
  } else {
    // Outputs first; the commit waits for their acknowledgement (Advance).
    routed.sent = BatchOutputs::Send(*producer_, routed.outputs, absl::Now() + options_.flush_timeout);
  }
  if (!in_flight_.empty()) metrics_->overlapped.Increment();
  in_flight_.push_back(std::move(routed));
  return absl::OkStatus();
}

absl::StatusOr<int> RoutingService::Advance(bool wait) {
  if (!failure_.ok()) return failure_;
  int committed = 0;
  while (!in_flight_.empty()) {
    InFlight& oldest = in_flight_.front();
    absl::StatusOr<bool> acknowledged = oldest.sent->Acknowledged();
    if (!acknowledged.ok()) {
      // A batch Kafka did not acknowledge is produced again: its repeats
      // carry the same signaal_ids. So is every later one, so that the last
      // copy of each output is in routing order again.
      util::LogError("aflevering not acknowledged, producing the batches in flight again",
                     {{"error", std::string(acknowledged.status().message())},
                      {"batches", absl::StrCat(in_flight_.size())}});
      if (stop_.load()) {
        // Shutting down: leave them uncommitted; the restart repeats them.
        failure_ = acknowledged.status();
        return failure_;
      }
      absl::SleepFor(kRetryBackoff);
      for (InFlight& batch : in_flight_) {
        batch.sent = BatchOutputs::Send(*producer_, batch.outputs, absl::Now() + options_.flush_timeout);
      }
      continue;
    }
    if (!*acknowledged) {
      if (!wait || committed > 0) return committed;
      oldest.sent->AwaitAcknowledged();
      continue;
    }
    if (absl::Status s = Commit(oldest); !s.ok()) {
      failure_ = s;
      return s;
    }
    committed += oldest.records;
    in_flight_.pop_front();
  }
  return committed;
}

absl::StatusOr<int> RoutingService::Drain() {
  int committed = 0;
  while (!in_flight_.empty()) {
    absl::StatusOr<int> n = Advance(/*wait=*/true);
    if (!n.ok()) return n.status();
    committed += *n;
  }
  if (!failure_.ok()) return failure_;
  return committed;
}

absl::Status RoutingService::Commit(InFlight& batch) {
  // Every output of this batch is acknowledged and every earlier batch is
  // committed: its dedupe entries and offsets may be stored.
  if (absl::Status s = store_.Commit(batch.routed_ids, batch.next_offsets); !s.ok()) return s;
  for (const auto& [tp, next] : batch.next_offsets) lag_offsets_[tp] = next;

  const Uitkomst& uitkomst = batch.uitkomst;
  for (const auto& [org, n] : uitkomst.routed) {
    metrics_->routed.Add({{"organisatie", org}}).Increment(n);
  }
  metrics_->unknown.Increment(uitkomst.unknown);
  metrics_->ambiguous.Increment(uitkomst.ambiguous);
  metrics_->duplicates.Increment(uitkomst.duplicates);
  for (const auto& [topic, n] : uitkomst.dlq) {
    metrics_->dlq.Add({{"topic", topic}}).Increment(n);
    util::LogWarn("records sent to the dead-letter topic",
                  {{"topic", topic}, {"records", absl::StrCat(n)}});
  }
  return absl::OkStatus();
}

absl::Status RoutingService::ProduceTransaction(const std::vector<kafka::OutRecord>& outputs) {
  // A transaction that did not commit is aborted and produced again: its
  // repeats carry the same signaal_ids.
  while (true) {
    absl::Status produced = ProduceAll(outputs);
    if (produced.ok()) return produced;
    // Fenced: a newer instance with this transactional.id runs; this one ends.
    if (absl::IsFailedPrecondition(produced)) return produced;
    util::LogError("aflevering not acknowledged, producing the batch again",
                   {{"error", std::string(produced.message())},
                    {"records", absl::StrCat(outputs.size())}});
    // Shutting down: leave the batch uncommitted; the restart repeats it.
    if (stop_.load()) return produced;
    absl::SleepFor(kRetryBackoff);
  }
}

absl::Status RoutingService::ProduceAll(const std::vector<kafka::OutRecord>& records) {
  if (producer_->Transactional()) {
    // One transaction per attempt: begin before the outputs, commit instead of the flush, abort on failure
    // (its records never reach a read_committed reader; the retry produces the batch again).
    if (absl::Status s = producer_->BeginTransaction(); !s.ok()) return s;
    absl::Status s = ProduceAndFlush(records);
    if (s.ok()) s = producer_->CommitTransaction();
    if (!s.ok()) {
      if (absl::Status a = producer_->AbortTransaction(); !a.ok()) return a;
    }
    return s;
  }
  return ProduceAndFlush(records);
}

absl::Status RoutingService::ProduceAndFlush(const std::vector<kafka::OutRecord>& records) {
  for (const kafka::OutRecord& record : records) {
    absl::Status s = producer_->Produce(record, [](const kafka::DeliveryReport&) {});
    if (!s.ok()) {
      // Usually a full local queue: make room and try once more.
      if (absl::Status f = producer_->Flush(options_.flush_timeout); !f.ok()) return f;
      s = producer_->Produce(record, [](const kafka::DeliveryReport&) {});
      if (!s.ok()) return s;
    }
  }
  return producer_->Flush(options_.flush_timeout);
}

void RoutingService::RefreshInfo(const std::shared_ptr<const OrganisatieTabel>& tabel) {
  if (tabel == info_tabel_ || tabel == nullptr) return;
  for (prometheus::Gauge* g : metrics_->info_gauges) metrics_->info.Remove(g);
  metrics_->info_gauges.clear();
  std::set<std::pair<std::string, std::string>> pairs;
  for (const OrganisatieRegel& regel : tabel->regels()) {
    pairs.emplace(regel.gemeentecode, regel.organisatie_id);
    pairs.emplace(regel.gemeentecode, regel.achttien_plus_organisatie_id);
  }
  for (const auto& [gemeente, organisatie] : pairs) {
    prometheus::Gauge& g =
        metrics_->info.Add({{"gemeente", gemeente}, {"organisatie", organisatie}});
    g.Set(1);
    metrics_->info_gauges.push_back(&g);
    // Every organisation's counter exists from the start, at 0: increase()
    // over a series that appears with its first signal misses that signal
    // (the alert InBeeldNoSubscriberForOrganisation would not see a first
    // burst). Counters stay when the table changes.
    metrics_->routed.Add({{"organisatie", organisatie}});
  }
  info_tabel_ = tabel;
}

}  // namespace inbeeld::routing

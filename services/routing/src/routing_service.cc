#include "inbeeld/routing/routing_service.h"

#include <pthread.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "inbeeld/util/log.h"

namespace inbeeld::routing {
namespace {

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
        info(prometheus::BuildGauge()
                 .Name("inbeeld_routing_gemeente_organisatie_info")
                 .Help("1 per (gemeente, organisatie) pair of the loaded organisation table")
                 .Register(registry)) {}

  prometheus::Family<prometheus::Counter>& routed;
  prometheus::Counter& unknown;
  prometheus::Counter& ambiguous;
  prometheus::Counter& duplicates;
  prometheus::Family<prometheus::Counter>& dlq;
  prometheus::Family<prometheus::Gauge>& info;
  std::vector<prometheus::Gauge*> info_gauges;
};

struct RoutingService::Uitkomst {
  std::map<std::string, int> routed;  // organisation id → copies
  int unknown = 0;
  int ambiguous = 0;
  int duplicates = 0;
  std::map<std::string, int> dlq;  // source topic → records
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
      kafka::Producer::Create(producer_options);
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

void RoutingService::OnRevoke(const std::vector<kafka::TopicPartition>& partitions) {
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
    Loop();
  });
}

void RoutingService::Loop() {
  while (!stop_.load()) {
    absl::StatusOr<int> n = RunBatch();
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
  pending_.clear();
  const absl::Time deadline = absl::Now() + options_.max_batch_time;
  while (static_cast<int>(pending_.size()) < options_.max_batch_records && !stop_.load()) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    absl::StatusOr<std::optional<kafka::InRecord>> record =
        consumer_->Poll(std::min(left, absl::Milliseconds(100)));
    if (!record.ok()) return record.status();
    if (record->has_value()) pending_.push_back(**std::move(record));
  }
  if (pending_.empty()) return 0;
  return ProcessBatch(std::move(pending_));
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

absl::StatusOr<int> RoutingService::ProcessBatch(std::vector<kafka::InRecord> batch) {
  std::shared_ptr<const OrganisatieTabel> tabel = bron_();
  RefreshInfo(tabel);

  Uitkomst uitkomst;
  std::vector<kafka::OutRecord> outputs;
  std::vector<std::string> routed_ids;
  std::set<std::string> in_batch;
  std::map<kafka::TopicPartition, int64_t> next_offsets;

  for (const kafka::InRecord& record : batch) {
    int64_t& next = next_offsets[{record.topic, record.partition}];
    next = std::max(next, record.offset + 1);

    v1::Signaal signaal;
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
    if (in_batch.count(signaal.signaal_id()) > 0) {
      ++uitkomst.duplicates;
      continue;
    }
    absl::StatusOr<bool> seen = store_.IsRouted(signaal.signaal_id());
    if (!seen.ok()) return seen.status();
    if (*seen) {
      ++uitkomst.duplicates;
      continue;
    }
    absl::StatusOr<Routering> routering = RouteSignaal(*tabel, signaal);
    if (!routering.ok()) {
      outputs.push_back(DeadLetter(record, std::string(routering.status().message())));
      ++uitkomst.dlq[record.topic];
      continue;
    }
    std::optional<std::string> ingest_time =
        kafka::FindHeader(record.headers, kafka::kHeaderIngestTime);
    for (const Aflevering& aflevering : routering->afleveringen) {
      kafka::OutRecord out;
      out.topic = options_.output_topic;
      out.key = aflevering.organisatie_id;
      out.value = aflevering.signaal.SerializeAsString();
      if (ingest_time) out.headers.push_back({std::string(kafka::kHeaderIngestTime), *ingest_time});
      outputs.push_back(std::move(out));
      ++uitkomst.routed[aflevering.organisatie_id];
    }
    if (routering->onbekend) ++uitkomst.unknown;
    if (routering->ambigu) ++uitkomst.ambiguous;
    in_batch.insert(signaal.signaal_id());
    routed_ids.push_back(signaal.signaal_id());
  }

  // Outputs first, acknowledged; only then the state. A batch Kafka did not
  // acknowledge is produced again: its repeats carry the same signaal_ids.
  while (true) {
    absl::Status produced = ProduceAll(outputs);
    if (produced.ok()) break;
    util::LogError("aflevering not acknowledged, producing the batch again",
                   {{"error", std::string(produced.message())},
                    {"records", absl::StrCat(outputs.size())}});
    if (stop_.load()) {
      // Shutting down: leave the batch uncommitted; the restart repeats it.
      return produced;
    }
    absl::SleepFor(kRetryBackoff);
  }
  if (absl::Status s = store_.Commit(routed_ids, next_offsets); !s.ok()) return s;
  if (absl::Status s = consumer_->CommitOffsets(next_offsets); !s.ok()) {
    util::LogWarn("group offset commit failed (lag metrics only)",
                  {{"error", std::string(s.message())}});
  }

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
  return static_cast<int>(batch.size());
}

absl::Status RoutingService::ProduceAll(const std::vector<kafka::OutRecord>& records) {
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
  }
  info_tabel_ = tabel;
}

}  // namespace inbeeld::routing

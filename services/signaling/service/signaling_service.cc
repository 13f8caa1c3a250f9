#include "signaling_service.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/util/log.h"

namespace inbeeld::signaling {
namespace {

struct SignalingMetrics {
  prometheus::Family<prometheus::Counter>& applied =
      prometheus::BuildCounter()
          .Name("inbeeld_signaling_events_applied_total")
          .Help("Events applied to a jongere's state, by kind.")
          .Register(observability::Registry());
  prometheus::Family<prometheus::Counter>& duplicates =
      prometheus::BuildCounter()
          .Name("inbeeld_signaling_events_duplicate_total")
          .Help("Events seen before (same bron and id): no effect, by kind.")
          .Register(observability::Registry());
  prometheus::Family<prometheus::Counter>& signals =
      prometheus::BuildCounter()
          .Name("inbeeld_signaling_signals_total")
          .Help("Signals emitted, by soort.")
          .Register(observability::Registry());
  prometheus::Family<prometheus::Gauge>& open_av =
      prometheus::BuildGauge()
          .Name("inbeeld_signaling_open_absoluut_verzuim")
          .Help("Jongeren with an open absoluut verzuim, by woongemeente (the live leerplichttelling).")
          .Register(observability::Registry());
  prometheus::Family<prometheus::Gauge>& open_ub =
      prometheus::BuildGauge()
          .Name("inbeeld_signaling_open_uit_beeld")
          .Help("Jongeren uit beeld, by woongemeente.")
          .Register(observability::Registry());
  prometheus::Counter& timer_firings = prometheus::BuildCounter()
                                           .Name("inbeeld_signaling_timer_firings_total")
                                           .Help("Jongeren whose timers were evaluated by a tick.")
                                           .Register(observability::Registry())
                                           .Add({});
  prometheus::Gauge& timer_lag = prometheus::BuildGauge()
                                     .Name("inbeeld_signaling_timer_lag_seconds")
                                     .Help("At the last tick: how long the oldest due timer had been due.")
                                     .Register(observability::Registry())
                                     .Add({});
  prometheus::Gauge& last_tick = prometheus::BuildGauge()
                                     .Name("inbeeld_signaling_last_tick_timestamp_seconds")
                                     .Help("Unix time of the last completed timer tick.")
                                     .Register(observability::Registry())
                                     .Add({});
  prometheus::Gauge& state_bytes = prometheus::BuildGauge()
                                       .Name("inbeeld_signaling_state_bytes")
                                       .Help("Approximate size of the local state store.")
                                       .Register(observability::Registry())
                                       .Add({});
  prometheus::Gauge& jongeren = prometheus::BuildGauge()
                                    .Name("inbeeld_signaling_jongeren")
                                    .Help("Jongeren in the state of the assigned partitions.")
                                    .Register(observability::Registry())
                                    .Add({});
  prometheus::Gauge& restore = prometheus::BuildGauge()
                                   .Name("inbeeld_signaling_restore_progress_ratio")
                                   .Help("Progress of restoring a partition from the changelog (1 = done).")
                                   .Register(observability::Registry())
                                   .Add({});
};

SignalingMetrics& Metrics() {
  static auto* m = new SignalingMetrics();
  return *m;
}

std::string SoortLabel(v1::SignaalSoort s) {
  std::string name = v1::SignaalSoort_Name(s);
  return absl::AsciiStrToLower(name.substr(std::string("SIGNAAL_SOORT_").size()));
}

std::string EventKindOfTopic(std::string_view topic) {
  if (topic == kafka::kTopicVerzuimmeldingen) return "verzuimmelding";
  if (topic == kafka::kTopicInschrijvingsmutaties) return "inschrijvingsmutatie";
  if (topic == kafka::kTopicAdresmutaties) return "adresmutatie";
  if (topic == kafka::kTopicVrijstellingen) return "vrijstelling";
  return "unknown";
}

std::string EventKind(const kafka::InRecord& r) { return EventKindOfTopic(r.topic); }

}  // namespace

absl::CivilDay SystemDateSource::Today() const { return util::TodayUtc(); }

absl::CivilDay FileDateSource::Today() const {
  std::ifstream in(path_);
  std::string line;
  std::getline(in, line);
  auto d = util::ParseDate(std::string(absl::StripAsciiWhitespace(line)));
  return d.ok() ? *d : absl::CivilDay(1900, 1, 1);
}

SignalingService::SignalingService(SignalingStore& store, kafka::Producer& producer,
                                   const identity::Pseudonymizer& pseudonymizer, const DateSource& dates,
                                   kafka::ClientOptions kafka_options, SignalingOptions options)
    : store_(store),
      producer_(producer),
      pseudonymizer_(pseudonymizer),
      dates_(dates),
      kafka_options_(std::move(kafka_options)),
      options_(options) {
  // Every kind's duplicate counter and every input topic's DLQ counter exist
  // at 0 from the start: their panels show 0 instead of "no data", and a
  // first increment is not lost to rate()/increase().
  for (std::string_view topic : kafka::kEventTopics) {
    Metrics().duplicates.Add({{"kind", EventKindOfTopic(topic)}});
    kafka::DeclareDlqSource(topic);
  }
}

kafka::ConsumerOptions SignalingService::ConsumerOptionsFor(const std::string& group_id) {
  kafka::ConsumerOptions co;
  static_cast<kafka::ClientOptions&>(co) = kafka_options_;
  co.group_id = group_id;
  for (auto t : kafka::kEventTopics) co.topics.emplace_back(t);
  co.start_offset = [this](const kafka::TopicPartition& tp) { return store_.GetOffset(tp); };
  co.on_assign = [this](const std::vector<kafka::TopicPartition>& parts) { OnAssign(parts); };
  co.on_revoke = [this](const std::vector<kafka::TopicPartition>& parts) { OnRevoke(parts); };
  return co;
}

void SignalingService::AdjustGauges(const std::string& old_gemeente, bool was_av, bool was_ub, const Jongere& now,
                                    int sign) {
  auto& m = Metrics();
  if (was_av) m.open_av.Add({{"gemeente", old_gemeente}}).Decrement(sign);
  if (was_ub) m.open_ub.Add({{"gemeente", old_gemeente}}).Decrement(sign);
  if (now.HasOpenAbsoluutVerzuim()) m.open_av.Add({{"gemeente", now.Woongemeente()}}).Increment(sign);
  if (now.IsUitBeeld()) m.open_ub.Add({{"gemeente", now.Woongemeente()}}).Increment(sign);
}

void SignalingService::OnAssign(const std::vector<kafka::TopicPartition>& parts) {
  std::set<int32_t> fresh;
  for (const auto& tp : parts) fresh.insert(tp.partition);
  for (int32_t p : fresh) {
    bool known = store_.GetHorizon(p).has_value();
    for (auto t : kafka::kEventTopics) known = known || store_.GetOffset({std::string(t), p}).has_value();
    if (!known) {
      // Another instance may have processed this partition: take its state.
      if (auto s = Restore(p); !s.ok()) {
        util::LogError("changelog restore failed", {{"partition", std::to_string(p)}, {"error", std::string(s.message())}});
      }
    }
    int64_t count = 0;
    store_.ForEachJongere(p, [&](const std::string&, const internal::v1::JongereState& st) {
      ++count;
      Jongere j = Jongere::FromState(st);
      AdjustGauges("", false, false, j, 1);
    });
    Metrics().jongeren.Increment(static_cast<double>(count));
  }
  absl::MutexLock lock(&mu_);
  partitions_.insert(fresh.begin(), fresh.end());
  next_tick_ = absl::InfinitePast();  // evaluate timers of new partitions soon
}

void SignalingService::OnRevoke(const std::vector<kafka::TopicPartition>& parts) {
  std::set<int32_t> gone;
  for (const auto& tp : parts) gone.insert(tp.partition);
  for (int32_t p : gone) {
    int64_t count = 0;
    store_.ForEachJongere(p, [&](const std::string&, const internal::v1::JongereState& st) {
      ++count;
      AdjustGauges("", false, false, Jongere::FromState(st), -1);
    });
    Metrics().jongeren.Decrement(static_cast<double>(count));
  }
  absl::MutexLock lock(&mu_);
  for (int32_t p : gone) partitions_.erase(p);
}

absl::Status SignalingService::Restore(int32_t partition) {
  Metrics().restore.Set(0);
  std::map<std::string, std::string> chunk;
  size_t restored = 0;
  absl::Status write_status = absl::OkStatus();
  absl::Status s = kafka::ReadPartitionToEnd(
      kafka_options_, {std::string(kafka::kTopicSignalingChangelog), partition}, 0,
      [&](const kafka::InRecord& r) {
        chunk[r.key] = r.value;
        ++restored;
        if (chunk.size() >= 1000) {
          if (write_status.ok()) write_status = store_.PutRaw(chunk);
          chunk.clear();
        }
      },
      absl::Minutes(10));
  if (write_status.ok() && !chunk.empty()) write_status = store_.PutRaw(chunk);
  Metrics().restore.Set(1);
  if (restored > 0) {
    util::LogInfo("partition restored from changelog",
                  {{"partition", std::to_string(partition)}, {"records", std::to_string(restored)}});
  }
  return s.ok() ? write_status : s;
}

absl::StatusOr<SignalingService::Pending*> SignalingService::Load(BatchContext& ctx, int32_t partition,
                                                                  const std::string& pseudoniem) {
  auto it = ctx.jongeren.find(pseudoniem);
  if (it != ctx.jongeren.end()) return &it->second;
  auto stored = store_.GetJongere(partition, pseudoniem);
  if (!stored.ok()) return stored.status();
  Pending p;
  p.partition = partition;
  if (stored->has_value()) {
    p.jongere = Jongere::FromState(**stored);
    p.old_wakeup = p.jongere.NextWakeup(options_.core);
    p.was_av = p.jongere.HasOpenAbsoluutVerzuim();
    p.was_uit_beeld = p.jongere.IsUitBeeld();
    p.old_gemeente = p.jongere.Woongemeente();
  } else {
    Metrics().jongeren.Increment();
  }
  return &ctx.jongeren.emplace(pseudoniem, std::move(p)).first->second;
}

void SignalingService::Emit(BatchContext& ctx, const std::vector<v1::Signaal>& signals,
                            const std::string& ingest_time) {
  for (const v1::Signaal& s : signals) {
    kafka::OutRecord out;
    out.topic = std::string(kafka::kTopicSignalen);
    // Same partition as the jongere's events: signalen stays co-partitioned.
    out.partition = ctx.jongeren.at(s.pseudoniem()).partition;
    out.key = s.pseudoniem();
    s.SerializeToString(&out.value);
    out.headers = {{std::string(kafka::kHeaderCeSpecversion), "1.0"},
                   {std::string(kafka::kHeaderCeId), s.signaal_id()},
                   {std::string(kafka::kHeaderCeSource), "/inbeeld/signaling"},
                   {std::string(kafka::kHeaderCeType), "nl.inbeeld.v1.Signaal"},
                   {std::string(kafka::kHeaderCeTime), events::Rfc3339(absl::Now())},
                   {std::string(kafka::kHeaderContentType), "application/protobuf"}};
    if (!ingest_time.empty()) out.headers.push_back({std::string(kafka::kHeaderIngestTime), ingest_time});
    ctx.outputs.push_back(std::move(out));
    Metrics().signals.Add({{"soort", SoortLabel(s.soort())}}).Increment();
    util::LogDebug("signal", {{"signaal_id", s.signaal_id()}, {"soort", SoortLabel(s.soort())},
                              {"peildatum", s.peildatum()}, {"pseudoniem", s.pseudoniem().substr(0, 12)}});
  }
}

void SignalingService::ToDlq(BatchContext& ctx, const kafka::InRecord& record, const absl::Status& error) {
  kafka::OutRecord out;
  out.topic = kafka::DlqTopic(record.topic);
  out.partition = record.partition;
  out.key = record.key;
  out.value = record.value;
  out.headers = record.headers;
  out.headers.push_back({std::string(kafka::kHeaderDlqError), std::string(error.message())});
  out.headers.push_back({std::string(kafka::kHeaderDlqTopic), record.topic});
  out.headers.push_back({std::string(kafka::kHeaderDlqPartition), std::to_string(record.partition)});
  out.headers.push_back({std::string(kafka::kHeaderDlqOffset), std::to_string(record.offset)});
  ctx.outputs.push_back(std::move(out));
  kafka::CountDlqRecord(record.topic);
  util::LogWarn("record sent to DLQ", {{"ce_id", kafka::FindHeader(record.headers, kafka::kHeaderCeId).value_or("")},
                                       {"topic", record.topic},
                                       {"partition", std::to_string(record.partition)},
                                       {"offset", std::to_string(record.offset)},
                                       {"error", std::string(error.message())}});
}

absl::Status SignalingService::Process(BatchContext& ctx, const kafka::InRecord& record, absl::CivilDay horizon) {
  ctx.store.PutOffset({record.topic, record.partition}, record.offset + 1);
  auto event = events::Decode(record);
  if (!event.ok()) {
    ToDlq(ctx, record, event.status());
    return absl::OkStatus();
  }
  const identity::EventRef ref = identity::RefOf(*event);
  const std::string pseudoniem = pseudonymizer_.Of(*ref.leerling);
  if (pseudoniem != record.key) {
    // Keyed with another secret or not at all: it would break co-partitioning.
    ToDlq(ctx, record, absl::InvalidArgumentError("record key is not the pseudonym of the leerling"));
    return absl::OkStatus();
  }
  // Storage trouble is not the record's fault: fail the batch, nothing is
  // committed, and the restart resumes from the stored offsets.
  auto pending = Load(ctx, record.partition, pseudoniem);
  if (!pending.ok()) return pending.status();
  Pending& p = **pending;
  const size_t before = p.jongere.EventCount();
  std::vector<v1::Signaal> signals = p.jongere.Apply(*event, pseudoniem, options_.core);
  const std::string kind = EventKind(record);
  if (p.jongere.EventCount() == before) {
    Metrics().duplicates.Add({{"kind", kind}}).Increment();
  } else {
    Metrics().applied.Add({{"kind", kind}}).Increment();
  }
  // Timers are advanced once per jongere after the whole batch was applied
  // (AdvanceBatch), so events that arrive together are judged together.
  p.ingest_time = kafka::FindHeader(record.headers, kafka::kHeaderCeTime).value_or(p.ingest_time);
  Emit(ctx, signals, p.ingest_time);
  (void)horizon;
  return absl::OkStatus();
}

void SignalingService::AdvanceBatch(BatchContext& ctx, absl::CivilDay horizon) {
  for (auto& [pseudoniem, p] : ctx.jongeren) {
    auto through = p.jongere.EvaluatedThrough();
    if (through && *through < horizon) {
      Emit(ctx, p.jongere.AdvanceTo(horizon, pseudoniem, options_.core), p.ingest_time);
    }
  }
}

absl::Status SignalingService::ProduceAll(const std::vector<kafka::OutRecord>& records) {
  for (const auto& out : records) {
    while (true) {
      absl::Status s = producer_.Produce(out, [](const kafka::DeliveryReport&) {});
      if (s.ok()) break;
      if (s.code() != absl::StatusCode::kUnavailable) return s;
      // Queue full: let deliveries drain, then retry the enqueue.
      (void)producer_.Flush(absl::Milliseconds(100));
    }
  }
  return producer_.Flush(options_.flush_timeout);
}

absl::Status SignalingService::Finish(BatchContext& ctx) {
  for (auto& [pseudoniem, p] : ctx.jongeren) {
    ctx.store.PutJongere(p.partition, pseudoniem, p.jongere.state());
    ctx.store.MoveWakeup(p.partition, pseudoniem, p.old_wakeup, p.jongere.NextWakeup(options_.core));
  }
  if (ctx.store.empty()) return absl::OkStatus();
  // Phase 1: signals and DLQ records, acknowledged.
  if (absl::Status s = ProduceAll(ctx.outputs); !s.ok()) return s;
  // Phase 2: the changelog carries the same writes as the store, so another
  // instance can restore. Only after phase 1 is acknowledged: a restored state
  // never claims a signal that was not delivered.
  std::vector<kafka::OutRecord> changelog;
  for (const auto& [key, value] : ctx.store.Changes()) {
    changelog.push_back({std::string(kafka::kTopicSignalingChangelog), StoreBatch::PartitionOfKey(key), key,
                         value, {}});
  }
  if (absl::Status s = ProduceAll(changelog); !s.ok()) return s;
  // Phase 3: state and offsets, after every output was acknowledged.
  if (absl::Status s = store_.Commit(ctx.store); !s.ok()) return s;
  for (auto& [pseudoniem, p] : ctx.jongeren) {
    AdjustGauges(p.old_gemeente, p.was_av, p.was_uit_beeld, p.jongere);
  }
  Metrics().state_bytes.Set(static_cast<double>(store_.ApproximateBytes()));
  return absl::OkStatus();
}

absl::Status SignalingService::Tick() {
  const absl::CivilDay horizon = dates_.Today() - 1;
  std::set<int32_t> parts;
  {
    absl::MutexLock lock(&mu_);
    parts = partitions_;
  }
  double oldest_due = 0;
  for (int32_t p : parts) {
    BatchContext ctx;
    for (const auto& [day, pseudoniem] : store_.DueWakeups(p, horizon)) {
      oldest_due = std::max(oldest_due, static_cast<double>(horizon - day) * 86400.0);
      auto pending = Load(ctx, p, pseudoniem);
      if (!pending.ok()) return pending.status();
      Emit(ctx, (*pending)->jongere.AdvanceTo(horizon, pseudoniem, options_.core), "");
      Metrics().timer_firings.Increment();
    }
    ctx.store.PutHorizon(p, horizon);
    if (absl::Status s = Finish(ctx); !s.ok()) return s;
  }
  Metrics().timer_lag.Set(oldest_due);
  Metrics().last_tick.Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  return absl::OkStatus();
}

absl::Status SignalingService::RunOnce(kafka::Consumer& consumer) {
  if (absl::Now() >= next_tick_) {
    if (absl::Status s = Tick(); !s.ok()) return s;
    next_tick_ = absl::Now() + options_.tick;
  }
  BatchContext ctx;
  const absl::CivilDay horizon = dates_.Today() - 1;
  const absl::Time deadline = absl::Now() + options_.max_batch_wait;
  std::vector<kafka::InRecord> records;
  while (static_cast<int>(records.size()) < options_.max_batch_records && absl::Now() < deadline) {
    auto r = consumer.Poll(deadline - absl::Now());
    if (!r.ok()) return r.status();
    if (!r->has_value()) break;
    records.push_back(std::move(**r));
  }
  if (records.empty()) return absl::OkStatus();
  for (const auto& record : records) {
    if (absl::Status s = Process(ctx, record, horizon); !s.ok()) return s;
  }
  AdvanceBatch(ctx, horizon);
  if (absl::Status s = Finish(ctx); !s.ok()) return s;
  std::map<kafka::TopicPartition, int64_t> next;
  for (const auto& r : records) next[{r.topic, r.partition}] = r.offset + 1;
  (void)consumer.CommitOffsets(next);  // for lag dashboards only; the store is the truth
  return absl::OkStatus();
}

absl::Status SignalingService::Run(kafka::Consumer& consumer) {
  while (!stop_.load()) {
    if (absl::Status s = RunOnce(consumer); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace inbeeld::signaling

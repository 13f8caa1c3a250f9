#include "inbeeld/signaling/signaling_service.h"

#include <fstream>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/observability/metric_cache.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/storage/rocksdb_options.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/util/log.h"

namespace inbeeld::signaling {
namespace {

// How many records RunOnce polls between two looks at the batches in flight.
constexpr size_t kAdvanceEvery = 64;
// A batch with fewer records than this per apply thread is applied on the
// loop's thread alone: a record costs some microseconds to apply, handing a
// shard to another thread and waiting for it some tens.
constexpr size_t kMinRecordsPerShard = 8;

// The shard of a record: by its key, the jongere's pseudonym (a keyed hash,
// so evenly spread), so that all of a jongere's records go to one thread.
// A record whose key is not its jongere's pseudonym goes to the DLQ.
int ShardOf(std::string_view key, int shards) {
  return static_cast<int>(absl::HashOf(key) % static_cast<size_t>(shards));
}

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
  prometheus::Family<prometheus::Counter>& telling =
      prometheus::BuildCounter()
          .Name("inbeeld_signaling_telling_total")
          .Help("Leerplichttelling figures as their signals are emitted, by figuur (docs/TELLING.md column) and "
                "woongemeente; per organisation through inbeeld_routing_gemeente_organisatie_info.")
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
  prometheus::Counter& overlapped = prometheus::BuildCounter()
                                        .Name("inbeeld_signaling_batches_overlapped_total")
                                        .Help("Batches applied while an earlier batch was still in flight "
                                              "(outputs or changelog not yet acknowledged, or not yet committed).")
                                        .Register(observability::Registry())
                                        .Add({});
  prometheus::Counter& applied_in_parallel = prometheus::BuildCounter()
                                                .Name("inbeeld_signaling_batches_applied_in_parallel_total")
                                                .Help("Batches whose jongeren were applied on more than one "
                                                      "thread (--apply-threads).")
                                                .Register(observability::Registry())
                                                .Add({});
  prometheus::Gauge& held = prometheus::BuildGauge()
                                .Name("inbeeld_signaling_input_held_records")
                                .Help("Records polled and held back until every partition behind has delivered "
                                      "what ingest accepted before them (arrival order across the event topics).")
                                .Register(observability::Registry())
                                .Add({});
  prometheus::Counter& held_total = prometheus::BuildCounter()
                                        .Name("inbeeld_signaling_input_held_total")
                                        .Help("Records held back at least once for arrival order.")
                                        .Register(observability::Registry())
                                        .Add({});
  prometheus::Counter& hold_timeouts = prometheus::BuildCounter()
                                           .Name("inbeeld_signaling_input_hold_timeouts_total")
                                           .Help("Batches released without regard to the partitions behind because "
                                                 "a record had waited 5 s or 200,000 were held: a partition behind "
                                                 "did not deliver.")
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
  prometheus::Counter& restored = prometheus::BuildCounter()
                                      .Name("inbeeld_signaling_changelog_records_restored_total")
                                      .Help("Changelog records applied to the local store on (re)assignment: "
                                            "from the checkpoint, or from the beginning for a partition new here.")
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

// The labelled metrics the loop touches per event, per signal and per jongere
// of a batch, looked up once per label value (metric_cache.h). Per thread: the
// loop and its assign/revoke hooks run on one, each apply thread has its own.
struct LoopMetrics {
  observability::MetricCache<prometheus::Counter, 1> applied{Metrics().applied, {"kind"}};
  observability::MetricCache<prometheus::Counter, 1> duplicates{Metrics().duplicates, {"kind"}};
  observability::MetricCache<prometheus::Counter, 1> signals{Metrics().signals, {"soort"}};
  observability::MetricCache<prometheus::Counter, 2> telling{Metrics().telling, {"figuur", "gemeente"}};
  observability::MetricCache<prometheus::Gauge, 1> open_av{Metrics().open_av, {"gemeente"}};
  observability::MetricCache<prometheus::Gauge, 1> open_ub{Metrics().open_ub, {"gemeente"}};
};

LoopMetrics& Loop() {
  thread_local LoopMetrics m;
  return m;
}

std::string SoortLabel(v1::SignaalSoort s) {
  std::string name = v1::SignaalSoort_Name(s);
  return absl::AsciiStrToLower(name.substr(std::string("SIGNAAL_SOORT_").size()));
}

// SoortLabel of every soort, computed once (it is asked per signal).
const std::string& SoortLabelCached(v1::SignaalSoort s) {
  static const auto* const labels = [] {
    auto* m = new absl::flat_hash_map<int, std::string>();
    for (int i = v1::SignaalSoort_MIN; i <= v1::SignaalSoort_MAX; ++i) {
      if (v1::SignaalSoort_IsValid(i)) m->emplace(i, SoortLabel(static_cast<v1::SignaalSoort>(i)));
    }
    return m;
  }();
  static const std::string* const unknown = new std::string("unknown");
  const auto it = labels->find(static_cast<int>(s));
  return it != labels->end() ? it->second : *unknown;
}

// The telling column a signal adds to (docs/TELLING.md), or "" (the
// dashboard's live telling; the exact yearly figures are `inbeeld telling`'s).
std::string_view TellingFiguur(const v1::Signaal& s) {
  switch (s.soort()) {
    case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM: return "av_nieuw";
    case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_LANGDURIG: return "av_langdurig";
    case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST:
      if (s.duur_dagen() <= 28) return "av_opgelost_tot_4_weken";
      if (s.duur_dagen() <= 91) return "av_opgelost_4_weken_3_maanden";
      return "av_opgelost_langer_3_maanden";
    case v1::SIGNAAL_SOORT_UIT_BEELD: return "uit_beeld_nieuw";
    case v1::SIGNAAL_SOORT_WEER_IN_BEELD: return "weer_in_beeld";
    case v1::SIGNAAL_SOORT_LANGDURIG_RELATIEF_VERZUIM: return "lrv_nieuw";
    case v1::SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF: return "vrijstelling_loopt_af";
    default: return "";
  }
}

std::string_view EventKindOfTopic(std::string_view topic) {
  if (topic == kafka::kTopicVerzuimmeldingen) return "verzuimmelding";
  if (topic == kafka::kTopicInschrijvingsmutaties) return "inschrijvingsmutatie";
  if (topic == kafka::kTopicAdresmutaties) return "adresmutatie";
  if (topic == kafka::kTopicVrijstellingen) return "vrijstelling";
  return "unknown";
}

std::string_view EventKind(const kafka::InRecord& r) { return EventKindOfTopic(r.topic); }

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
      options_(options),
      arrival_(options.arrival),
      // The store's per-thread perf counters off, as on the loop's thread (Run).
      workers_(options.apply_threads, [] { storage::DisablePerfCountersOnThisThread(); }) {
  // Every kind's duplicate counter and every input topic's DLQ counter exist
  // at 0 from the start: their panels show 0 instead of "no data", and a
  // first increment is not lost to rate()/increase().
  for (std::string_view topic : kafka::kEventTopics) {
    Metrics().duplicates.Add({{"kind", std::string(EventKindOfTopic(topic))}});
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
  LoopMetrics& m = Loop();
  if (was_av) m.open_av.Get(old_gemeente).Decrement(sign);
  if (was_ub) m.open_ub.Get(old_gemeente).Decrement(sign);
  if (now.HasOpenAbsoluutVerzuim()) m.open_av.Get(now.Woongemeente()).Increment(sign);
  if (now.IsUitBeeld()) m.open_ub.Get(now.Woongemeente()).Increment(sign);
}

void SignalingService::OnAssign(const std::vector<kafka::TopicPartition>& parts) {
  std::set<int32_t> fresh;
  for (const auto& tp : parts) fresh.insert(tp.partition);
  for (int32_t p : fresh) {
    // Another instance may have processed this partition since this store
    // last did: take its state before any input is processed (this hook runs
    // inside Poll, before the first record is returned). The consumer was
    // assigned at the offsets stored before the restore: input between those
    // and the restored offsets is read again and changes nothing (the core
    // ignores an event it holds, by bron and id; the signals it caused are
    // recorded as emitted in the restored state).
    if (absl::Status s = Restore(p); !s.ok()) {
      util::LogError("changelog restore failed", {{"partition", std::to_string(p)}, {"error", std::string(s.message())}});
      // Processing on a stale state would be wrong: stop (the loop sees
      // failure_ after Poll); the restart tries again.
      if (failure_.ok()) failure_ = s;
      return;
    }
    int64_t count = 0;
    store_.ForEachJongere(p, [&](const std::string&, const internal::v1::JongereState& st) {
      ++count;
      Jongere j = Jongere::FromState(st);
      AdjustGauges("", false, false, j, 1);
    });
    Metrics().jongeren.Increment(static_cast<double>(count));
    // Tell the group what the store holds (committed at the end of this
    // loop, RunOnce). A commit is asynchronous and fails during a rebalance;
    // an instance that keeps its partitions and gets no new input would
    // otherwise leave the group's offsets behind for good: a backlog on the
    // lag dashboards and in ingest's holdback that is not there.
    for (std::string_view topic : kafka::kEventTopics) {
      const kafka::TopicPartition tp{std::string(topic), p};
      if (std::optional<int64_t> next = store_.GetOffset(tp)) lag_offsets_[tp] = *next;
    }
  }
  util::LogInfo("partitions assigned", {{"partitions", absl::StrJoin(fresh, ",")}});
  absl::MutexLock lock(&mu_);
  partitions_.insert(fresh.begin(), fresh.end());
  next_tick_ = absl::InfinitePast();  // evaluate timers of new partitions soon
}

void SignalingService::OnRevoke(const std::vector<kafka::TopicPartition>& parts) {
  // Batches in flight may hold these partitions' records: commit them while
  // the partitions are still ours (a failure is kept in failure_ and ends the
  // loop; nothing uncommitted is lost, the next owner replays it).
  (void)Drain();
  std::set<int32_t> gone;
  for (const auto& tp : parts) gone.insert(tp.partition);
  // Polled, never processed, not in the store's offsets: the next owner reads them.
  arrival_.Drop(gone);
  Metrics().held.Set(static_cast<double>(arrival_.held()));
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
  // Like Kafka Streams' checkpoint file: the local state reflects the
  // changelog up to its checkpoint; another instance may have written more
  // since (it owned the partition meanwhile), so catch up from there. Without
  // a checkpoint (never here, or a restore cut short) start from scratch.
  const std::optional<int64_t> checkpoint = store_.GetChangelogCheckpoint(partition);
  if (!checkpoint) {
    if (absl::Status s = store_.DropPartition(partition); !s.ok()) return s;
  }
  const int64_t from = checkpoint.value_or(0);
  Metrics().restore.Set(0);
  // Records are applied up to the last commit point (StoreBatch::Changes puts
  // them last); a tail after it is a batch cut short by a crash, repaired below.
  std::vector<std::pair<std::string, std::string>> ready, tail;
  int64_t ready_next = from;
  size_t restored = 0;
  absl::Status write_status = absl::OkStatus();
  int64_t end = from;
  absl::Status s = kafka::ReadPartitionToEnd(
      kafka_options_, {std::string(kafka::kTopicSignalingChangelog), partition}, from,
      [&](const kafka::InRecord& r) {
        tail.emplace_back(SignalingStore::CurrentKey(r.key), r.value);
        if (!StoreBatch::IsCommitPoint(r.key)) return;
        restored += tail.size();
        ready.insert(ready.end(), std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()));
        tail.clear();
        ready_next = r.offset + 1;
        if (ready.size() >= 1000) {
          if (write_status.ok()) write_status = store_.ApplyChangelog(partition, ready, ready_next);
          ready.clear();
        }
      },
      absl::Minutes(10), &end);
  if (!s.ok()) return s;
  if (!write_status.ok()) return write_status;
  // Nothing complete read: the checkpoint moves to the log's start at most
  // (a fresh partition whose log start moved on; the reader logged any loss).
  if (restored == 0 && tail.empty()) ready_next = std::max(ready_next, end);
  if (absl::Status w = store_.ApplyChangelog(partition, ready, ready_next); !w.ok()) return w;
  Metrics().restore.Set(1);
  Metrics().restored.Increment(static_cast<double>(restored));
  if (!tail.empty()) {
    if (absl::Status r = RepairChangelogTail(partition, tail); !r.ok()) return r;
  }
  if (restored > 0 || !tail.empty()) {
    util::LogInfo("partition restored from changelog",
                  {{"partition", std::to_string(partition)},
                   {"mode", checkpoint ? "catch-up from checkpoint" : "from the beginning"},
                   {"from_offset", std::to_string(from)},
                   {"records", std::to_string(restored)},
                   {"incomplete_tail_records", std::to_string(tail.size())}});
  }
  return absl::OkStatus();
}

absl::Status SignalingService::RepairChangelogTail(int32_t partition,
                                                   const std::vector<std::pair<std::string, std::string>>& tail) {
  // The tail's values were never committed anywhere; a later restore would
  // apply them with the next commit point. Write the local (committed) value
  // of each of their keys after them, then a commit point, so that the
  // changelog says what the store says again.
  std::set<std::string> keys;
  for (const auto& kv : tail) keys.insert(kv.first);
  std::vector<kafka::OutRecord> repair;
  const std::string topic(kafka::kTopicSignalingChangelog);
  for (const std::string& key : keys) {
    auto value = store_.GetRaw(key);
    if (!value.ok()) return value.status();
    repair.push_back({topic, partition, key, value->value_or(""), {}});
  }
  // The commit point: this partition's stored offset of the first event topic
  // (or its tombstone: nothing processed yet).
  const kafka::TopicPartition first{std::string(kafka::kEventTopics[0]), partition};
  const std::optional<int64_t> offset = store_.GetOffset(first);
  StoreBatch marker;
  marker.PutOffset(first, offset.value_or(0));
  const std::string marker_key = marker.Changes().front().first;
  repair.push_back({topic, partition, marker_key, offset ? std::to_string(*offset) : "", {}});
  auto acks = std::make_shared<Acks>();
  if (absl::Status s = Begin(); !s.ok()) return s;
  if (absl::Status s = ProduceAsync(repair, acks); !s.ok()) return s;
  absl::MutexLock lock(&acks->mu);
  acks->mu.AwaitWithDeadline(
      absl::Condition(+[](Acks* a) ABSL_NO_THREAD_SAFETY_ANALYSIS { return a->outstanding == 0; }, acks.get()),
      absl::Now() + options_.flush_timeout);
  if (!acks->first_error.ok()) return acks->first_error;
  if (acks->outstanding != 0) return absl::DeadlineExceededError("kafka did not acknowledge the changelog repair");
  if (options_.transactions) {
    if (absl::Status s = producer_.CommitTransaction(); !s.ok()) return s;
  }
  const auto last = acks->last_offset.find(partition);
  if (last == acks->last_offset.end()) return absl::InternalError("changelog repair without an offset");
  util::LogWarn("changelog tail of a batch cut short rewritten with the committed values",
                {{"partition", std::to_string(partition)}, {"records", std::to_string(repair.size())}});
  return store_.ApplyChangelog(partition, {}, last->second + 1);
}

absl::StatusOr<SignalingService::Pending*> SignalingService::Load(BatchContext& ctx, int32_t partition,
                                                                  const std::string& pseudoniem) {
  if (Pending* here = ctx.Find(pseudoniem)) return here;
  // A batch in flight (applied, not yet committed) holds the newest state:
  // this batch continues from it and commits after it.
  for (auto f = in_flight_.rbegin(); f != in_flight_.rend(); ++f) {
    const Pending* prev = f->ctx->Find(pseudoniem);
    if (prev == nullptr) continue;
    Pending p;
    p.partition = partition;
    p.jongere = prev->jongere;
    // What that batch put in the wake-up index (Stage ran before it went in flight).
    p.old_wakeup = prev->new_wakeup;
    p.was_av = p.jongere.HasOpenAbsoluutVerzuim();
    p.was_uit_beeld = p.jongere.IsUitBeeld();
    p.old_gemeente = p.jongere.Woongemeente();
    return ctx.Add(pseudoniem, std::move(p));
  }
  auto stored = store_.GetJongere(partition, pseudoniem);
  if (!stored.ok()) return stored.status();
  Pending p;
  p.partition = partition;
  if (stored->has_value()) {
    p.jongere = Jongere::FromState(std::move(**stored));
    // Where the entry is, as recorded with it; a state from before the
    // record (or without one) is evaluated to find it.
    if (const auto recorded = p.jongere.WekkerInIndex()) {
      p.old_wakeup = *recorded;
    } else {
      p.old_wakeup = p.jongere.NextWakeup(options_.core);
    }
    p.was_av = p.jongere.HasOpenAbsoluutVerzuim();
    p.was_uit_beeld = p.jongere.IsUitBeeld();
    p.old_gemeente = p.jongere.Woongemeente();
  } else {
    Metrics().jongeren.Increment();
  }
  return ctx.Add(pseudoniem, std::move(p));
}

void SignalingService::Emit(BatchContext& ctx, int32_t partition, const std::vector<v1::Signaal>& signals,
                            const std::string& ingest_time) {
  if (!signals.empty() && ctx.ce_time.empty()) ctx.ce_time = events::Rfc3339(absl::Now());
  for (const v1::Signaal& s : signals) {
    kafka::OutRecord out;
    out.topic = std::string(kafka::kTopicSignalen);
    // Same partition as the jongere's events: signalen stays co-partitioned.
    out.partition = partition;
    out.key = s.pseudoniem();
    s.SerializeToString(&out.value);
    out.headers.reserve(7);  // one allocation for all of them
    out.headers.push_back({std::string(kafka::kHeaderCeSpecversion), "1.0"});
    out.headers.push_back({std::string(kafka::kHeaderCeId), s.signaal_id()});
    out.headers.push_back({std::string(kafka::kHeaderCeSource), "/inbeeld/signaling"});
    out.headers.push_back({std::string(kafka::kHeaderCeType), "nl.inbeeld.v1.Signaal"});
    out.headers.push_back({std::string(kafka::kHeaderCeTime), ctx.ce_time});
    out.headers.push_back({std::string(kafka::kHeaderContentType), "application/protobuf"});
    if (!ingest_time.empty()) out.headers.push_back({std::string(kafka::kHeaderIngestTime), ingest_time});
    ctx.outputs.push_back(std::move(out));
    Loop().signals.Get(SoortLabelCached(s.soort())).Increment();
    if (const std::string_view figuur = TellingFiguur(s); !figuur.empty()) {
      // Gemeente, never the jongere: a bounded label (4-digit codes).
      Loop().telling.Get(figuur, s.woongemeente()).Increment();
    }
    if (util::LogEnabled(util::LogLevel::kDebug)) {
      util::LogDebug("signal", {{"signaal_id", s.signaal_id()}, {"soort", SoortLabel(s.soort())},
                                {"peildatum", s.peildatum()}, {"pseudoniem", s.pseudoniem().substr(0, 12)}});
    }
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

void SignalingService::BatchContext::Absorb(BatchContext&& shard) {
  jongeren.merge(shard.jongeren);
  index.insert(shard.index.begin(), shard.index.end());
  outputs.insert(outputs.end(), std::make_move_iterator(shard.outputs.begin()),
                 std::make_move_iterator(shard.outputs.end()));
  store.Absorb(std::move(shard.store));
  if (ce_time.empty()) ce_time = std::move(shard.ce_time);
}

absl::Status SignalingService::ApplyShard(BatchContext& ctx, const std::vector<const kafka::InRecord*>& records,
                                          absl::CivilDay horizon) {
  for (const kafka::InRecord* record : records) {
    if (absl::Status s = Process(ctx, *record, horizon); !s.ok()) return s;
  }
  AdvanceBatch(ctx, horizon);
  Stage(ctx);
  return absl::OkStatus();
}

absl::Status SignalingService::Apply(BatchContext& ctx, const std::vector<kafka::InRecord>& records,
                                     absl::CivilDay horizon) {
  const int shards =
      records.size() < kMinRecordsPerShard * static_cast<size_t>(workers_.shards()) ? 1 : workers_.shards();
  std::vector<std::vector<const kafka::InRecord*>> input(shards);
  for (auto& in : input) in.reserve(records.size() / shards + records.size() / 8);
  for (const auto& record : records) input[shards == 1 ? 0 : ShardOf(record.key, shards)].push_back(&record);
  if (shards == 1) return ApplyShard(ctx, input[0], horizon);
  std::vector<BatchContext> parts(shards);
  // One CloudEvents time for the whole batch, as on one thread.
  const std::string ce_time = events::Rfc3339(absl::Now());
  std::vector<absl::Status> status(shards);
  workers_.Run([&](int shard) {
    parts[shard].ce_time = ce_time;
    status[shard] = ApplyShard(parts[shard], input[shard], horizon);
  });
  for (const absl::Status& s : status) {
    if (!s.ok()) return s;
  }
  for (BatchContext& part : parts) ctx.Absorb(std::move(part));
  Metrics().applied_in_parallel.Increment();
  return absl::OkStatus();
}

absl::Status SignalingService::Process(BatchContext& ctx, const kafka::InRecord& record, absl::CivilDay horizon) {
  // The input offsets go into the batch once per partition (RunOnce), not per record.
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
  // Applied as part of the batch (Jongere::ApplyInBatch): what comes out now
  // is the previous event's; the last one's comes with AdvanceBatch.
  // The decoded event is moved in (`ref` above points into it and is not used
  // after this).
  Jongere::BatchApply applied = p.jongere.ApplyInBatch(std::move(*event), pseudoniem, options_.core);
  Emit(ctx, p.partition, applied.signalen, p.ingest_time);
  const std::string_view kind = EventKind(record);
  if (applied.applied) {
    Loop().applied.Get(kind).Increment();
  } else {
    Loop().duplicates.Get(kind).Increment();
  }
  // Timers are advanced once per jongere after the whole batch was applied
  // (AdvanceBatch), so events that arrive together are judged together.
  // Assigned in place: the string keeps its buffer from the previous event.
  if (const auto ce_time = kafka::FindHeaderView(record.headers, kafka::kHeaderCeTime)) p.ingest_time.assign(*ce_time);
  (void)horizon;
  return absl::OkStatus();
}

void SignalingService::AdvanceBatch(BatchContext& ctx, absl::CivilDay horizon) {
  for (auto& [pseudoniem, p] : ctx.jongeren) {
    Emit(ctx, p.partition, p.jongere.FinishBatch(horizon, pseudoniem, options_.core), p.ingest_time);
  }
}

absl::Status SignalingService::ProduceAsync(const std::vector<kafka::OutRecord>& records,
                                          const std::shared_ptr<Acks>& acks) {
  // Counted for all at once (one lock, not one per record): a callback can
  // then never see the count reach zero before the last record is enqueued.
  {
    absl::MutexLock lock(&acks->mu);
    acks->outstanding += records.size();
  }
  for (size_t i = 0; i < records.size(); ++i) {
    const kafka::OutRecord& out = records[i];
    while (true) {
      absl::Status s = producer_.Produce(out, [acks](const kafka::DeliveryReport& report) {
        absl::MutexLock lock(&acks->mu);
        if (!report.status.ok() && acks->first_error.ok()) acks->first_error = report.status;
        // The changelog checkpoint: changelog records only (in a transaction, signals share these acks).
        if (report.status.ok() && report.topic == kafka::kTopicSignalingChangelog) {
          int64_t& last = acks->last_offset[report.partition];
          last = std::max(last, report.offset);
        }
        --acks->outstanding;
      });
      if (s.ok()) break;
      if (s.code() != absl::StatusCode::kUnavailable) {
        absl::MutexLock lock(&acks->mu);
        acks->outstanding -= records.size() - i;  // this one and the rest: never enqueued
        return s;
      }
      // Queue full: the producer's thread drains it as acknowledgements come.
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  return absl::OkStatus();
}

void SignalingService::Stage(BatchContext& ctx) {
  for (auto& [pseudoniem, p] : ctx.jongeren) {
    p.new_wakeup = p.jongere.NextWakeup(options_.core);
    // The state records where its entry goes, in the same write as the entry.
    p.jongere.SetWekkerInIndex(p.new_wakeup);
    ctx.store.PutJongere(p.partition, pseudoniem, p.jongere.state());
    ctx.store.MoveWakeup(p.partition, pseudoniem, p.old_wakeup, p.new_wakeup);
  }
}


absl::Status SignalingService::ProduceChangelog(InFlight& batch) {
  std::vector<kafka::OutRecord> changelog;
  std::vector<std::pair<std::string, std::string>> changes = batch.ctx->store.Changes();
  changelog.reserve(changes.size());
  for (auto& [key, value] : changes) {
    const int32_t partition = StoreBatch::PartitionOfKey(key);
    changelog.push_back({std::string(kafka::kTopicSignalingChangelog), partition, std::move(key), std::move(value), {}});
  }
  batch.changelog_produced = true;
  return ProduceAsync(changelog, batch.acks);
}

absl::Status SignalingService::Begin() {
  if (!options_.transactions) return absl::OkStatus();
  return producer_.BeginTransaction();
}

absl::Status SignalingService::CommitBatch(InFlight& batch) {
  // State and offsets, after every output and changelog record of this batch
  // (and of every earlier batch) was acknowledged.
  {
    // The changelog checkpoint of every partition the batch wrote to.
    absl::MutexLock lock(&batch.acks->mu);
    for (const auto& [p, last] : batch.acks->last_offset) batch.ctx->store.PutChangelogCheckpoint(p, last + 1);
  }
  if (absl::Status s = store_.Commit(batch.ctx->store); !s.ok()) return s;
  for (auto& [pseudoniem, p] : batch.ctx->jongeren) {
    AdjustGauges(p.old_gemeente, p.was_av, p.was_uit_beeld, p.jongere);
  }
  for (const auto& [tp, next] : batch.consumed) lag_offsets_[tp] = next;
  if (++commits_ % 64 == 1) Metrics().state_bytes.Set(static_cast<double>(store_.ApproximateBytes()));
  return absl::OkStatus();
}

absl::Status SignalingService::Advance(bool wait) {
  if (!failure_.ok()) return failure_;
  auto fail = [this](absl::Status s) {
    failure_ = s;
    return s;
  };
  // True when every record of the phase is acknowledged; the first delivery
  // failure, or the deadline passing first, is an error.
  auto phase_done = [](Acks& acks, absl::Time deadline) -> absl::StatusOr<bool> {
    absl::MutexLock lock(&acks.mu);
    if (!acks.first_error.ok()) return acks.first_error;
    if (acks.outstanding == 0) return true;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("kafka did not acknowledge the batch's records in time");
    }
    return false;
  };
  while (!in_flight_.empty()) {
    // The changelog of a batch goes out once its signals are acknowledged
    // (a restored state never claims an undelivered signal) and after the
    // changelog of every earlier batch (per key, the newest state is last).
    for (InFlight& b : in_flight_) {
      if (b.changelog_produced) continue;
      absl::StatusOr<bool> done = phase_done(*b.acks, b.deadline);
      if (!done.ok()) return fail(done.status());
      if (!*done) break;
      b.acks = std::make_shared<Acks>();
      b.deadline = absl::Now() + options_.flush_timeout;
      if (absl::Status s = ProduceChangelog(b); !s.ok()) return fail(s);
    }
    InFlight& front = in_flight_.front();
    absl::StatusOr<bool> done = phase_done(*front.acks, front.deadline);
    if (!done.ok()) return fail(done.status());
    if (*done && front.changelog_produced) {
      // Outputs and changelog acknowledged: commit them to readers, then the store.
      if (options_.transactions) {
        absl::SleepFor(options_.hold_transaction);
        if (absl::Status s = producer_.CommitTransaction(); !s.ok()) return fail(s);
      }
      if (absl::Status s = CommitBatch(front); !s.ok()) return fail(s);
      in_flight_.pop_front();
      if (wait) return absl::OkStatus();
      continue;
    }
    if (!wait) return absl::OkStatus();
    // Block until the oldest batch's current phase is acknowledged (or its
    // deadline passes; the next round reports that).
    Acks& acks = *front.acks;
    acks.mu.LockWhenWithDeadline(
        absl::Condition(
            +[](Acks* a) ABSL_NO_THREAD_SAFETY_ANALYSIS { return a->outstanding == 0 || !a->first_error.ok(); },
            &acks),
        front.deadline);
    acks.mu.Unlock();
  }
  return absl::OkStatus();
}

absl::Status SignalingService::Drain() {
  while (!in_flight_.empty()) {
    if (absl::Status s = Advance(/*wait=*/true); !s.ok()) return s;
  }
  return failure_;
}

absl::Status SignalingService::Finish(BatchContext& ctx) {
  Stage(ctx);
  if (ctx.store.empty()) return absl::OkStatus();
  InFlight batch;
  batch.ctx = std::make_unique<BatchContext>(std::move(ctx));
  batch.acks = std::make_shared<Acks>();
  batch.deadline = absl::Now() + options_.flush_timeout;
  if (absl::Status s = Begin(); !s.ok()) return failure_ = s;
  if (absl::Status s = ProduceAsync(batch.ctx->outputs, batch.acks); !s.ok()) return failure_ = s;
  if (options_.transactions) {
    if (absl::Status s = ProduceChangelog(batch); !s.ok()) return failure_ = s;
  }
  in_flight_.push_back(std::move(batch));
  return Drain();
}

absl::Status SignalingService::Tick() {
  // Timers read the committed store: finish what is in flight first.
  if (absl::Status s = Drain(); !s.ok()) return s;
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
      // An entry other than the jongere's own (a store away for longer than
      // the changelog keeps the tombstones of moved entries) goes: after this
      // advance every entry of the jongere is later than the horizon, and
      // Stage moves its own entry.
      if ((*pending)->old_wakeup != day) ctx.store.MoveWakeup(p, pseudoniem, day, std::nullopt);
      // Finish → Stage asks NextWakeup next: found by the same evaluation.
      Emit(ctx, p, (*pending)->jongere.AdvanceWithWakeup(horizon, pseudoniem, options_.core), "");
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
  if (!failure_.ok()) return failure_;
  if (absl::Now() >= next_tick_) {
    if (absl::Status s = Tick(); !s.ok()) return s;
    next_tick_ = absl::Now() + options_.tick;
  }
  auto ctx = std::make_unique<BatchContext>();
  const absl::CivilDay horizon = dates_.Today() - 1;
  const absl::Time deadline = absl::Now() + options_.max_batch_wait;
  size_t polled = 0;
  const size_t max_polled = static_cast<size_t>(std::max(1, options_.max_batch_records));
  bool idle = true;  // the last poll brought nothing (or none yet)
  for (absl::Time now = absl::Now(); polled < max_polled && now < deadline; now = absl::Now()) {
    // Batches in flight move on while this one fills; the poll waits briefly
    // so they are not held up. After an empty poll and every kAdvanceEvery
    // records, not after every record: each look takes the batches' locks, and
    // acknowledgements come per produce request, far less often than records.
    if (idle || polled % kAdvanceEvery == 0) {
      if (absl::Status s = Advance(/*wait=*/false); !s.ok()) return s;
    }
    const absl::Duration wait =
        in_flight_.empty() ? deadline - now : std::min(deadline - now, absl::Milliseconds(5));
    auto r = consumer.Poll(wait);
    if (!r.ok()) return r.status();
    // The revoke hook (inside Poll) drains; a failure there fails the loop.
    if (!failure_.ok()) return failure_;
    idle = !r->has_value();
    if (idle) {
      if (in_flight_.empty()) break;
      // A whole batch is held and may go: nothing to wait for.
      if (arrival_.held() >= max_polled && arrival_.CanRelease(consumer.Behind(), now, max_polled)) break;
      continue;
    }
    arrival_.Add(std::move(**r), now);
    ++polled;
  }
  std::vector<kafka::InRecord> records;
  records.reserve(std::min(arrival_.held(), max_polled));
  const ArrivalOrder::Released released = arrival_.Release(consumer.Behind(), absl::Now(), max_polled, &records);
  if (released.forced) Metrics().hold_timeouts.Increment();
  if (released.newly_held > 0) Metrics().held_total.Increment(static_cast<double>(released.newly_held));
  Metrics().held.Set(static_cast<double>(arrival_.held()));
  if (!records.empty()) {
    if (absl::Status s = Apply(*ctx, records, horizon); !s.ok()) return failure_ = s;
    InFlight batch;
    kafka::AdvanceNextOffsets(records, batch.consumed);
    // Committed with the states: the next record of each partition read.
    for (const auto& [tp, next] : batch.consumed) ctx->store.PutOffset(tp, next);
    batch.ctx = std::move(ctx);
    batch.acks = std::make_shared<Acks>();
    batch.deadline = absl::Now() + options_.flush_timeout;
    if (absl::Status s = Begin(); !s.ok()) return failure_ = s;
    if (absl::Status s = ProduceAsync(batch.ctx->outputs, batch.acks); !s.ok()) return failure_ = s;
    // In a transaction the signals and the changelog become visible together or not at all: the changelog
    // need not wait for the signals' acknowledgements (one round trip less per batch).
    if (options_.transactions) {
      if (absl::Status s = ProduceChangelog(batch); !s.ok()) return failure_ = s;
    }
    batch.ctx->outputs.clear();
    batch.ctx->outputs.shrink_to_fit();
    if (!in_flight_.empty()) Metrics().overlapped.Increment();
    in_flight_.push_back(std::move(batch));
  }
  if (absl::Status s = Advance(/*wait=*/false); !s.ok()) return s;
  while (static_cast<int>(in_flight_.size()) >= BatchesInFlight()) {
    if (absl::Status s = Advance(/*wait=*/true); !s.ok()) return s;
  }
  if (!lag_offsets_.empty()) {
    (void)consumer.CommitOffsets(lag_offsets_);  // for lag dashboards only; the store is the truth
    lag_offsets_.clear();
  }
  return absl::OkStatus();
}

absl::Status SignalingService::Run(kafka::Consumer& consumer) {
  storage::DisablePerfCountersOnThisThread();  // the loop's thread uses the store
  absl::Status s = absl::OkStatus();
  while (s.ok() && !stop_.load()) s = RunOnce(consumer);
  if (s.ok()) s = Drain();
  if (!s.ok() && options_.transactions) {
    // Nothing of the failed batch commits: its outputs become invisible to read_committed readers, and the
    // producer is free for the resumed loop's first transaction.
    if (absl::Status a = producer_.AbortTransaction(); !a.ok()) {
      util::LogError("kafka transaction abort failed", {{"error", std::string(a.message())}});
      if (absl::IsFailedPrecondition(a)) return a;  // fenced: this instance must end
    }
  }
  return s;
}

}  // namespace inbeeld::signaling

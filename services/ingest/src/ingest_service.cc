#include "inbeeld/ingest/ingest_service.h"

#include <atomic>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/resume.h"
#include "inbeeld/observability/metric_cache.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/util/log.h"

namespace inbeeld::ingest {
namespace {

struct IngestMetrics {
  prometheus::Family<prometheus::Counter>& accepted =
      prometheus::BuildCounter()
          .Name("inbeeld_ingest_events_accepted_total")
          .Help("Events acknowledged by Kafka and accepted, by kind.")
          .Register(observability::Registry());
  prometheus::Family<prometheus::Counter>& rejected =
      prometheus::BuildCounter()
          .Name("inbeeld_ingest_events_rejected_total")
          .Help("Events refused, by kind and reason (invalid, conflict, unavailable, internal, holdback, unauthenticated).")
          .Register(observability::Registry());
  prometheus::Family<prometheus::Counter>& duplicate =
      prometheus::BuildCounter()
          .Name("inbeeld_ingest_events_duplicate_total")
          .Help("Retries of an event accepted before (answered, nothing produced), by kind.")
          .Register(observability::Registry());
  prometheus::Histogram& produce_latency =
      prometheus::BuildHistogram()
          .Name("inbeeld_ingest_produce_latency_seconds")
          .Help("Time from produce to Kafka acknowledgement.")
          .Register(observability::Registry())
          .Add({}, observability::LatencyBuckets());
  prometheus::Gauge& inflight = prometheus::BuildGauge()
                                    .Name("inbeeld_ingest_inflight_requests")
                                    .Help("Events being processed right now.")
                                    .Register(observability::Registry())
                                    .Add({});
};

IngestMetrics& Metrics() {
  static auto* m = new IngestMetrics();
  return *m;
}

// The per-item counter by kind, looked up once per kind and handler thread
// (metric_cache.h).
prometheus::Counter& Accepted(std::string_view kind) {
  thread_local observability::MetricCache<prometheus::Counter, 1> cache(Metrics().accepted, {"kind"});
  return cache.Get(kind);
}

// Counts an event in flight for the gauge, exception-free RAII.
class InflightScope {
 public:
  InflightScope() { Metrics().inflight.Increment(); }
  ~InflightScope() { Metrics().inflight.Decrement(); }
};

grpc::Status InvalidArgument(const identity::Violations& violations) {
  google::rpc::BadRequest bad;
  for (const auto& v : violations) {
    auto* fv = bad.add_field_violations();
    fv->set_field(v.field);
    fv->set_description(v.description);
  }
  google::rpc::Status st;
  st.set_code(grpc::INVALID_ARGUMENT);
  st.set_message(absl::StrCat("invalid event: ", identity::Describe(violations)));
  st.add_details()->PackFrom(bad);
  return grpc::Status(grpc::INVALID_ARGUMENT, st.message(), st.SerializeAsString());
}

// RESOURCE_EXHAUSTED with google.rpc.RetryInfo: the event was not stored, the
// client retries the same event (same id) after the delay.
grpc::Status HoldBack(const absl::Status& why, absl::Duration retry_after) {
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(absl::ToInt64Seconds(retry_after));
  retry.mutable_retry_delay()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(retry_after % absl::Seconds(1))));
  google::rpc::Status st;
  st.set_code(grpc::RESOURCE_EXHAUSTED);
  st.set_message(absl::StrCat(why.message(), " (retry after ", absl::FormatDuration(retry_after), ")"));
  st.add_details()->PackFrom(retry);
  return grpc::Status(grpc::RESOURCE_EXHAUSTED, st.message(), st.SerializeAsString());
}

template <typename T>
v1::Event Wrap(const T& msg);
template <>
v1::Event Wrap(const v1::VerzuimMelding& m) {
  v1::Event e;
  *e.mutable_verzuimmelding() = m;
  return e;
}
template <>
v1::Event Wrap(const v1::InschrijvingsMutatie& m) {
  v1::Event e;
  *e.mutable_inschrijvingsmutatie() = m;
  return e;
}
template <>
v1::Event Wrap(const v1::AdresMutatie& m) {
  v1::Event e;
  *e.mutable_adresmutatie() = m;
  return e;
}
template <>
v1::Event Wrap(const v1::Vrijstelling& m) {
  v1::Event e;
  *e.mutable_vrijstelling() = m;
  return e;
}

grpc::Status FromAbsl(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

identity::Violations ValidateForRequest(const v1::Event& event, bool in_envelope) {
  if (in_envelope) return identity::Validate(event);
  switch (event.event_case()) {
    case v1::Event::kVerzuimmelding: return identity::Validate(event.verzuimmelding());
    case v1::Event::kInschrijvingsmutatie: return identity::Validate(event.inschrijvingsmutatie());
    case v1::Event::kAdresmutatie: return identity::Validate(event.adresmutatie());
    case v1::Event::kVrijstelling: return identity::Validate(event.vrijstelling());
    default: return identity::Validate(event);
  }
}

// An event that passed validation and claimed its id in the dedupe window:
// the caller owns the claim and must produce `record` and hand Kafka's answer
// to CompleteProduce exactly once.
struct Claimed {
  std::string ce_id;
  DedupWindow::Ticket ticket;
  std::string kind;
  kafka::OutRecord record;
  absl::Time start;
  size_t bytes = 0;  // key + value + headers, for the backlog estimate
};

// The first half of the path of one event: validation and the dedupe claim.
// nullopt when the answer is final without Kafka (`*answer`).
// `id_digest` is DedupWindow::DigestOf(ce_id), which MeldBatch needs before
// this too (its in-flight check): taken once per event.
std::optional<Claimed> ValidateAndClaim(const v1::Event& event, std::string ce_id,
                                        const DedupWindow::Digest& id_digest, absl::Time deadline,
                                        v1::MeldAntwoord* resp,
                                        bool in_envelope, DedupWindow& dedup,
                                        const identity::Pseudonymizer& pseudonymizer, const util::Clock& clock,
                                        kafka::BacklogMonitor* backlog, grpc::Status* answer) {
  identity::EventRef ref = identity::RefOf(event);
  const std::string kind = ref.kind.empty() ? "unknown" : ref.kind;
  identity::Violations violations = ValidateForRequest(event, in_envelope);
  if (!violations.empty()) {
    Metrics().rejected.Add({{"kind", kind}, {"reason", "invalid"}}).Increment();
    *answer = InvalidArgument(violations);
    return std::nullopt;
  }
  resp->set_event_id(ce_id);
  // Encoded before the claim: the record's topic (the kind) and value (the
  // event's message) are its content, so the fingerprint that tells a true
  // retry from a different event reusing an id is taken from them, and the
  // event is serialized once.
  const absl::Time start = clock.Now();
  kafka::OutRecord record = events::Encode(event, pseudonymizer, start, ce_id);
  thread_local std::string content;  // keeps its buffer
  content.assign(record.topic).push_back('\0');
  content.append(record.value);
  DedupWindow::Ticket ticket;
  switch (dedup.TryClaim(id_digest, DedupWindow::DigestOf(content), deadline - clock.Now(),
                         &ticket)) {
    case DedupWindow::Claim::kDuplicate:
      Metrics().duplicate.Add({{"kind", kind}}).Increment();
      resp->set_duplicate(true);
      *answer = grpc::Status::OK;
      return std::nullopt;
    case DedupWindow::Claim::kConflict:
      Metrics().rejected.Add({{"kind", kind}, {"reason", "conflict"}}).Increment();
      *answer = grpc::Status(grpc::ALREADY_EXISTS,
                             "this (bron, id) was accepted before with different content; use a new id");
      return std::nullopt;
    case DedupWindow::Claim::kBusy:
      Metrics().rejected.Add({{"kind", kind}, {"reason", "unavailable"}}).Increment();
      *answer = grpc::Status(grpc::UNAVAILABLE, "the same event is still being stored; retry");
      return std::nullopt;
    case DedupWindow::Claim::kNew:
      break;
  }
  Claimed claimed{std::move(ce_id), ticket, kind, std::move(record), start};
  claimed.bytes = kafka::PayloadBytes(claimed.record);
  if (backlog != nullptr) {
    if (absl::Status admit = backlog->Admit(claimed.record.topic, claimed.record.key); !admit.ok()) {
      dedup.Complete(claimed.ticket, /*accepted=*/false);  // a retry with the same id is produced anew
      Metrics().rejected.Add({{"kind", kind}, {"reason", "holdback"}}).Increment();
      *answer = HoldBack(admit, backlog->RetryAfter());
      return std::nullopt;
    }
  }
  return claimed;
}

// The second half: completes the claim with Kafka's answer (`latency` from
// produce to acknowledgement) and returns the answer for the client.
grpc::Status CompleteProduce(const Claimed& c, const absl::StatusOr<kafka::DeliveryReport>& report,
                             absl::Duration latency, DedupWindow& dedup) {
  dedup.Complete(c.ticket, report.ok());
  if (!report.ok()) {
    // Not acknowledged in time, or purged from a producer that failed fatally and was replaced: the failures
    // signaling resumes from (kafka/resume.h). Kafka may not hold the event; a retry with the same id stores it once.
    const bool unavailable = kafka::ResumableFailure(report.status());
    Metrics().rejected.Add({{"kind", c.kind}, {"reason", unavailable ? "unavailable" : "internal"}}).Increment();
    util::LogWarn("event not stored",
                  {{"ce_id", c.ce_id}, {"kind", c.kind}, {"error", std::string(report.status().message())}});
    if (unavailable) {
      return grpc::Status(grpc::UNAVAILABLE, "Kafka did not acknowledge the event in time; retry with the same id");
    }
    return FromAbsl(report.status());
  }
  Metrics().produce_latency.Observe(absl::ToDoubleSeconds(latency));
  Accepted(c.kind).Increment();
  if (util::LogEnabled(util::LogLevel::kDebug)) {
    util::LogDebug("event accepted", {{"ce_id", c.ce_id}, {"kind", c.kind}});
  }
  return grpc::Status::OK;
}

// Items of one MeldBatch produced but not yet answered. Bounds the memory and
// the producer queue one stream can take.
constexpr size_t kMaxBatchInFlight = 1000;
// How often a MeldBatch stream looks whether its client cancelled (items).
constexpr uint32_t kCancelCheckEvery = 64;

// Kafka's answer for one produced item, and when it came (produce latency).
struct Acked {
  kafka::DeliveryReport report;
  absl::Time at;  // wall time
};

// The acknowledgements of the items one MeldBatch has in flight, at most
// kMaxBatchInFlight: the delivery callbacks (the producer's poller thread) fill
// the slots, the handler waits on each slot under one mutex. A promise and
// future per item cost four allocations and a condition variable each; this
// costs none per item. Counted by hand so that a callback is two words (kept
// inside std::function without an allocation) and so that an item acknowledged
// after its deadline, when MeldBatch may have returned, still finds its slot.
class AckWindow {
 public:
  // The handler's reference; the window takes kMaxBatchInFlight items.
  static AckWindow* New() { return new AckWindow(); }

  bool Full() const { return reserved_ == kMaxBatchInFlight; }

  // The slot for the next record to produce, with a reference for its
  // callback (Deliver drops it; Forget when the record was never enqueued).
  // Only the handler reserves; the slots never move (reserved up front).
  size_t Reserve() {
    refs_.fetch_add(1, std::memory_order_relaxed);
    return reserved_++;
  }

  // The delivery callback of `slot`: runs once per enqueued record.
  void Deliver(size_t slot, const kafka::DeliveryReport& report) {
    const absl::Time at = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      slots_[slot].emplace(Acked{report, at});
    }
    Unref();
  }
  void Forget() { Unref(); }

  // Kafka's answer for `slot`, or nullopt when none came before `deadline`.
  std::optional<Acked> Wait(size_t slot, absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    std::optional<Acked>* s = &slots_[slot];
    mu_.AwaitWithDeadline(absl::Condition(+[](std::optional<Acked>* a) { return a->has_value(); }, s), deadline);
    return std::move(*s);
  }

  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  AckWindow() : slots_(kMaxBatchInFlight) {}

  std::atomic<int> refs_{1};
  size_t reserved_ = 0;  // the handler's alone
  absl::Mutex mu_;
  std::vector<std::optional<Acked>> slots_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

IngestService::IngestService(kafka::Producer& producer, const identity::Pseudonymizer& pseudonymizer,
                             const util::Clock& clock, IngestOptions options)
    : producer_(producer),
      pseudonymizer_(pseudonymizer),
      clock_(clock),
      options_(options),
      dedup_(options.dedup_capacity) {
  Metrics();  // register the families before the first scrape
  // Each kind's duplicate counter at 0 from the start (see the Duplicates
  // panel): 0 rather than "no data", and the first retry counts in rate().
  for (const char* kind : {"verzuimmelding", "inschrijvingsmutatie", "adresmutatie", "vrijstelling"}) {
    Metrics().duplicate.Add({{"kind", kind}});
  }
}

grpc::Status IngestService::Authorize(grpc::ServerContext* ctx) const {
  if (options_.bronnen == nullptr || ctx == nullptr) return grpc::Status::OK;
  auto who = options_.bronnen->Authenticeer(*ctx->auth_context());
  if (!who.ok()) {
    Metrics().rejected.Add({{"kind", "unknown"}, {"reason", "unauthenticated"}}).Increment();
    return grpc::Status(grpc::UNAUTHENTICATED,
                        absl::StrCat("only known schools, DUO and gemeenten may publish: ", who.status().message()));
  }
  return grpc::Status::OK;
}

absl::Time IngestService::DeadlineOf(grpc::ServerContext* ctx) const {
  absl::Time deadline = clock_.Now() + options_.produce_timeout;
  if (ctx != nullptr) {
    absl::Time client = absl::FromChrono(ctx->deadline());
    if (client < deadline) deadline = client;
  }
  return deadline;
}

grpc::Status IngestService::Accept(const v1::Event& event, absl::Time deadline, v1::MeldAntwoord* resp,
                                   bool in_envelope) {
  InflightScope inflight;
  grpc::Status answer;
  std::string ce_id = events::CeId(event);
  const DedupWindow::Digest id_digest = DedupWindow::DigestOf(ce_id);
  std::optional<Claimed> claimed = ValidateAndClaim(event, std::move(ce_id), id_digest, deadline, resp, in_envelope,
                                                    dedup_, pseudonymizer_, clock_, options_.backlog, &answer);
  if (!claimed) return answer;
  auto report = producer_.ProduceSync(std::move(claimed->record),
                                      std::max(deadline - claimed->start, absl::Milliseconds(1)));
  if (report.ok() && options_.backlog != nullptr) options_.backlog->Produced(*report, claimed->bytes);
  return CompleteProduce(*claimed, report, clock_.Now() - claimed->start, dedup_);
}

grpc::Status IngestService::MeldVerzuim(grpc::ServerContext* ctx, const v1::VerzuimMelding* req,
                                        v1::MeldAntwoord* resp) {
  if (grpc::Status st = Authorize(ctx); !st.ok()) return st;
  return Accept(Wrap(*req), DeadlineOf(ctx), resp, /*in_envelope=*/false);
}
grpc::Status IngestService::MeldInschrijving(grpc::ServerContext* ctx, const v1::InschrijvingsMutatie* req,
                                             v1::MeldAntwoord* resp) {
  if (grpc::Status st = Authorize(ctx); !st.ok()) return st;
  return Accept(Wrap(*req), DeadlineOf(ctx), resp, /*in_envelope=*/false);
}
grpc::Status IngestService::MeldAdresMutatie(grpc::ServerContext* ctx, const v1::AdresMutatie* req,
                                             v1::MeldAntwoord* resp) {
  if (grpc::Status st = Authorize(ctx); !st.ok()) return st;
  return Accept(Wrap(*req), DeadlineOf(ctx), resp, /*in_envelope=*/false);
}
grpc::Status IngestService::MeldVrijstelling(grpc::ServerContext* ctx, const v1::Vrijstelling* req,
                                             v1::MeldAntwoord* resp) {
  if (grpc::Status st = Authorize(ctx); !st.ok()) return st;
  return Accept(Wrap(*req), DeadlineOf(ctx), resp, /*in_envelope=*/false);
}

grpc::Status IngestService::MeldBatch(grpc::ServerContext* ctx, grpc::ServerReader<v1::Event>* reader,
                                      v1::BatchAntwoord* resp) {
  if (grpc::Status st = Authorize(ctx); !st.ok()) return st;
  v1::Event event;
  return Batch(
      ctx, [&]() -> const v1::Event* { return reader->Read(&event) ? &event : nullptr; }, resp);
}

grpc::Status IngestService::MeldBundles(grpc::ServerContext* ctx, grpc::ServerReader<v1::EventBundle>* reader,
                                        v1::BatchAntwoord* resp) {
  if (grpc::Status st = Authorize(ctx); !st.ok()) return st;
  // One bundle object for the whole stream: a Read clears it and keeps its
  // event messages and strings for the next bundle to parse into.
  v1::EventBundle bundle;
  int next = 0;
  return Batch(
      ctx,
      [&]() -> const v1::Event* {
        while (next == bundle.events_size()) {  // also skips empty bundles
          if (!reader->Read(&bundle)) return nullptr;
          next = 0;
        }
        return &bundle.events(next++);
      },
      resp);
}

grpc::Status IngestService::Batch(grpc::ServerContext* ctx, absl::FunctionRef<const v1::Event*()> next,
                                  v1::BatchAntwoord* resp) {
  // Items are produced as they arrive and answered once Kafka acknowledged
  // them all (or at most kMaxBatchInFlight are waiting): one acks=all round
  // trip and linger.ms per window instead of per item. The response is sent
  // only after every item's answer is known, so an accepted item is always
  // stored (ack before answer).
  struct InFlight {
    v1::ItemAntwoord* item;  // elements of a repeated field keep their address
    Claimed claimed;
    size_t slot;              // in `window`
    absl::Time deadline;      // by the service clock, as for a unary request
    absl::Time produced_at;   // wall time
  };
  std::vector<InFlight> inflight;
  absl::flat_hash_set<DedupWindow::Digest> inflight_ids;
  AckWindow* window = nullptr;  // the items of `inflight`; a new one after each drain

  auto answer = [resp](v1::ItemAntwoord* item, const grpc::Status& st, const v1::Event* event) {
    item->set_code(st.error_code());
    item->set_message(st.error_message());
    if (st.ok()) {
      resp->set_accepted(resp->accepted() + 1);
      return;
    }
    resp->set_rejected(resp->rejected() + 1);
    if (event == nullptr) return;  // failed in Kafka: the event itself was valid
    for (const auto& v : identity::Validate(*event)) {
      auto* fv = item->add_violations();
      fv->set_field(v.field);
      fv->set_description(v.description);
    }
  };
  // Waits for every produced item and answers it. Always runs before
  // returning: each claim in the dedupe window must be completed.
  auto drain = [&] {
    for (InFlight& f : inflight) {
      absl::StatusOr<kafka::DeliveryReport> report =
          absl::UnavailableError("kafka did not acknowledge the record in time");
      absl::Duration latency = absl::ZeroDuration();
      const absl::Duration left = std::max(f.deadline - clock_.Now(), absl::Milliseconds(1));
      if (std::optional<Acked> a = window->Wait(f.slot, absl::Now() + left)) {
        latency = a->at - f.produced_at;
        if (a->report.status.ok()) {
          if (options_.backlog != nullptr) options_.backlog->Produced(a->report, f.claimed.bytes);
          report = std::move(a->report);
        } else {
          report = a->report.status;
        }
      }
      answer(f.item, CompleteProduce(f.claimed, report, latency, dedup_), nullptr);
      Metrics().inflight.Decrement();
    }
    inflight.clear();
    inflight_ids.clear();
    if (window != nullptr) window->Unref();  // callbacks still due keep it alive
    window = nullptr;
  };

  grpc::Status result = grpc::Status::OK;
  uint32_t index = 0;
  while (const v1::Event* next_event = next()) {
    const v1::Event& event = *next_event;
    if (index >= options_.max_batch_items) {
      result = grpc::Status(grpc::RESOURCE_EXHAUSTED,
                            absl::StrCat("a batch holds at most ", options_.max_batch_items, " events"));
      break;
    }
    v1::ItemAntwoord* item = resp->add_items();
    item->set_index(index++);
    // A repeat of an id still in flight in this batch waits for it, so it gets
    // the answer it would get in a sequential batch (duplicate, or produced
    // anew when the first failed) instead of "still being stored".
    std::string ce_id = events::CeId(event);
    const DedupWindow::Digest id_digest = DedupWindow::DigestOf(ce_id);
    if (!inflight.empty() && inflight_ids.contains(id_digest)) drain();
    // Each item gets the per-request produce timeout; the client's deadline
    // bounds the whole stream.
    const absl::Time deadline = clock_.Now() + options_.produce_timeout;
    Metrics().inflight.Increment();
    grpc::Status st;
    std::optional<Claimed> claimed =
        ValidateAndClaim(event, std::move(ce_id), id_digest, deadline, item->mutable_antwoord(),
                         /*in_envelope=*/true, dedup_, pseudonymizer_, clock_, options_.backlog, &st);
    if (!claimed) {
      answer(item, st, &event);
      Metrics().inflight.Decrement();
    } else {
      if (window == nullptr) window = AckWindow::New();
      const size_t slot = window->Reserve();
      InFlight f{item, std::move(*claimed), slot, deadline, absl::Now()};
      // The callback may outlive this call (an item that timed out): it
      // holds a reference to the window.
      absl::Status enqueued =
          producer_.Produce(f.claimed.record, [w = window, slot](const kafka::DeliveryReport& r) {
            w->Deliver(slot, r);
          });
      f.claimed.record = kafka::OutRecord();  // librdkafka holds its own copy
      if (!enqueued.ok()) {
        window->Forget();  // no callback will come
        answer(item, CompleteProduce(f.claimed, enqueued, absl::ZeroDuration(), dedup_), nullptr);
        Metrics().inflight.Decrement();
      } else {
        inflight_ids.insert(f.claimed.ticket.key);
        inflight.push_back(std::move(f));
      }
      if (window->Full()) drain();
    }
    // Every kCancelCheckEvery items, not after each: the check takes the
    // call's lock (4 % of ingest's CPU per event), and a cancelled stream
    // also ends the Read above.
    if (index % kCancelCheckEvery == 0 && ctx->IsCancelled()) {
      result = grpc::Status(grpc::CANCELLED, "client cancelled the batch");
      break;
    }
  }
  drain();
  return result;
}

}  // namespace inbeeld::ingest

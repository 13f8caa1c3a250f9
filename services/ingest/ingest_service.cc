#include "ingest_service.h"

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/validation.h"
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
          .Help("Events refused, by kind and reason (invalid, conflict, unavailable, internal).")
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

}  // namespace

IngestService::IngestService(kafka::Producer& producer, const identity::Pseudonymizer& pseudonymizer,
                             const util::Clock& clock, IngestOptions options)
    : producer_(producer),
      pseudonymizer_(pseudonymizer),
      clock_(clock),
      options_(options),
      dedup_(options.dedup_capacity) {
  Metrics();  // register the families before the first scrape
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
  identity::EventRef ref = identity::RefOf(event);
  const std::string kind = ref.kind.empty() ? "unknown" : ref.kind;
  identity::Violations violations = ValidateForRequest(event, in_envelope);
  if (!violations.empty()) {
    Metrics().rejected.Add({{"kind", kind}, {"reason", "invalid"}}).Increment();
    return InvalidArgument(violations);
  }
  const std::string ce_id = events::CeId(event);
  resp->set_event_id(ce_id);
  // The fingerprint tells a true retry from a different event reusing an id.
  const std::string fingerprint = identity::Sha256Hex(event.SerializeAsString());
  switch (dedup_.TryClaim(ce_id, fingerprint, deadline - clock_.Now())) {
    case DedupWindow::Claim::kDuplicate:
      Metrics().duplicate.Add({{"kind", kind}}).Increment();
      resp->set_duplicate(true);
      return grpc::Status::OK;
    case DedupWindow::Claim::kConflict:
      Metrics().rejected.Add({{"kind", kind}, {"reason", "conflict"}}).Increment();
      return grpc::Status(grpc::ALREADY_EXISTS,
                          "this (bron, id) was accepted before with different content; use a new id");
    case DedupWindow::Claim::kBusy:
      Metrics().rejected.Add({{"kind", kind}, {"reason", "unavailable"}}).Increment();
      return grpc::Status(grpc::UNAVAILABLE, "the same event is still being stored; retry");
    case DedupWindow::Claim::kNew:
      break;
  }
  const absl::Time start = clock_.Now();
  auto report = producer_.ProduceSync(events::Encode(event, pseudonymizer_, start),
                                      std::max(deadline - start, absl::Milliseconds(1)));
  dedup_.Complete(ce_id, report.ok());
  if (!report.ok()) {
    const bool unavailable = report.status().code() == absl::StatusCode::kUnavailable ||
                             report.status().code() == absl::StatusCode::kDeadlineExceeded;
    Metrics().rejected.Add({{"kind", kind}, {"reason", unavailable ? "unavailable" : "internal"}}).Increment();
    util::LogWarn("event not stored", {{"ce_id", ce_id}, {"kind", kind}, {"error", std::string(report.status().message())}});
    if (unavailable) {
      return grpc::Status(grpc::UNAVAILABLE, "Kafka did not acknowledge the event in time; retry with the same id");
    }
    return FromAbsl(report.status());
  }
  Metrics().produce_latency.Observe(absl::ToDoubleSeconds(clock_.Now() - start));
  Metrics().accepted.Add({{"kind", kind}}).Increment();
  util::LogDebug("event accepted", {{"ce_id", ce_id}, {"kind", kind}});
  return grpc::Status::OK;
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
  uint32_t index = 0;
  while (reader->Read(&event)) {
    if (index >= options_.max_batch_items) {
      return grpc::Status(grpc::RESOURCE_EXHAUSTED,
                          absl::StrCat("a batch holds at most ", options_.max_batch_items, " events"));
    }
    v1::ItemAntwoord* item = resp->add_items();
    item->set_index(index++);
    // Each item gets the per-request produce timeout; the client's deadline
    // bounds the whole stream.
    grpc::Status st = Accept(event, clock_.Now() + options_.produce_timeout, item->mutable_antwoord());
    item->set_code(st.error_code());
    item->set_message(st.error_message());
    if (st.ok()) {
      resp->set_accepted(resp->accepted() + 1);
    } else {
      resp->set_rejected(resp->rejected() + 1);
      for (const auto& v : identity::Validate(event)) {
        auto* fv = item->add_violations();
        fv->set_field(v.field);
        fv->set_description(v.description);
      }
    }
    if (ctx->IsCancelled()) return grpc::Status(grpc::CANCELLED, "client cancelled the batch");
  }
  return grpc::Status::OK;
}

}  // namespace inbeeld::ingest

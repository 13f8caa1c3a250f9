// Throughput of the ingest path against an embedded Kafka cluster, in one
// process, each variant next to the bare producer it is built on:
//   BM_BareProduceSync      kafka::Producer::ProduceSync of an encoded event
//                           (the baseline: acks=all round trip + linger.ms)
//   BM_Accept               IngestService::Accept (validate, dedupe window,
//                           pseudonym, encode, ProduceSync), no gRPC
//   BM_GrpcUnary            MeldVerzuim through a real plaintext gRPC server
//   BM_GrpcBatch            MeldBatch of 100 events through gRPC
//   BM_ValidateAndPseudonym identity::Validate + Pseudonymizer::Of (CPU only)
//   BM_DedupWindow          DedupWindow claim + complete of a new event id in a
//                           full window of the default size (CPU only)
// Benchmarks run in registration order; once BM_BareProduceSync/threads:1 ran,
// the others report `ratio_to_bare` = their events/s divided by its events/s
// (same process, same cluster, same load).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "inbeeld/cli/demo_scenario.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/util/clock.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "absl/strings/str_cat.h"
#include "inbeeld/ingest/dedup_window.h"
#include "inbeeld/ingest/ingest_service.h"

namespace inbeeld::ingest {
namespace {

constexpr int kPartitions = 4;
constexpr int kBatchSize = 100;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ingest_bench: %s\n", what.c_str());
  std::exit(1);
}

// Valid BSNs (eleven-test): validation and the pseudonym check need them.
std::string Bsn(int n) { return cli::SyntheticBsn(n); }

v1::VerzuimMelding Melding(int n) {
  v1::VerzuimMelding m;
  m.set_melding_id("m-" + std::to_string(n));
  m.set_bron("05KO");
  m.mutable_leerling()->set_bsn(Bsn(n % 1000));
  m.set_geboortedatum("2010-03-15");
  m.set_brin("05KO");
  m.set_woongemeente("0363");
  m.set_soort(v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN);
  m.set_meldingsdatum("2024-02-20");
  m.set_begindatum("2024-01-22");
  m.set_einddatum("2024-02-19");
  m.set_verzuim_uren(16);
  m.set_verzuim_dagen(4);
  m.set_school_actie(v1::SCHOOL_ACTIE_GESPREK_OUDERS);
  return m;
}

v1::Event Wrap(const v1::VerzuimMelding& m) {
  v1::Event e;
  *e.mutable_verzuimmelding() = m;
  return e;
}

// Unique melding ids across all benchmarks and threads, so the dedupe window
// never answers "duplicate" and every event is really produced.
std::atomic<int> next_id{0};

// One embedded cluster, producer, service and gRPC server for the whole run.
struct Env {
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  std::unique_ptr<kafka::Producer> producer;
  identity::Pseudonymizer pseudonymizer = *identity::Pseudonymizer::Create("bench-secret-0123456789abcdef");
  util::SystemClock clock;
  std::unique_ptr<IngestService> service;
  std::unique_ptr<grpc_util::Server> server;
  std::unique_ptr<v1::MeldingService::Stub> stub;
  kafka::OutRecord sample;  // an encoded melding: what the baseline produces

  Env() {
    auto c = kafka::EmbeddedCluster::Start(1);
    if (!c.ok()) Die(std::string(c.status().message()));
    cluster = std::move(*c);
    if (auto s = cluster->CreateTopics(kafka::InBeeldTopics(kPartitions, 1)); !s.ok()) {
      Die(std::string(s.message()));
    }
    kafka::ClientOptions ko;
    ko.bootstrap_servers = cluster->bootstrap_servers();
    auto p = kafka::Producer::Create(ko);
    if (!p.ok()) Die(std::string(p.status().message()));
    producer = std::move(*p);
    service = std::make_unique<IngestService>(*producer, pseudonymizer, clock, IngestOptions{});
    grpc_util::TlsOptions tls;
    tls.plaintext = true;
    auto srv = grpc_util::Server::Start("127.0.0.1:0", tls, {service.get()});
    if (!srv.ok()) Die(std::string(srv.status().message()));
    server = std::move(*srv);
    stub = v1::MeldingService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials()));
    const v1::Event e = Wrap(Melding(0));
    if (auto v = identity::Validate(e); !v.empty()) Die("sample event invalid: " + identity::Describe(v));
    sample = events::Encode(e, pseudonymizer, absl::Now());
    // Warm up: metadata, producer id (idempotence), connections.
    for (int i = 0; i < 20; ++i) {
      if (!producer->ProduceSync(sample, absl::Seconds(10)).ok()) Die("warm-up produce failed");
    }
  }
};

Env& E() {
  static Env* env = new Env();
  return *env;
}

// events/s of BM_BareProduceSync/threads:1 (0 until it ran).
double bare_rate = 0;

void Report(benchmark::State& state, int64_t events) {
  state.SetItemsProcessed(events);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

// Baseline ratio: rates are only known after a run, so the reporter adds it.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> out = runs;
    for (Run& r : out) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      auto it = r.counters.find("events_per_s");
      if (it == r.counters.end()) continue;
      // Counters reach the reporter finished: kIsRate is already per second.
      const double rate = it->second.value;
      if (r.benchmark_name().rfind("BM_BareProduceSync/", 0) == 0 && r.threads == 1) bare_rate = rate;
      if (bare_rate > 0) r.counters["ratio_to_bare"] = benchmark::Counter(rate / bare_rate);
    }
    ConsoleReporter::ReportRuns(out);
  }
};

void BM_BareProduceSync(benchmark::State& state) {
  Env& env = E();
  int64_t events = 0;
  for (auto _ : state) {
    kafka::OutRecord r = env.sample;
    auto report = env.producer->ProduceSync(std::move(r), absl::Seconds(10));
    if (!report.ok()) {
      state.SkipWithError("produce failed");
      break;
    }
    ++events;
  }
  Report(state, events);
}
BENCHMARK(BM_BareProduceSync)->Unit(benchmark::kMicrosecond)->UseRealTime()->Threads(1)->Threads(16);

void BM_Accept(benchmark::State& state) {
  Env& env = E();
  int64_t events = 0;
  for (auto _ : state) {
    const v1::Event e = Wrap(Melding(next_id.fetch_add(1)));
    v1::MeldAntwoord resp;
    grpc::Status st = env.service->Accept(e, absl::Now() + absl::Seconds(10), &resp);
    if (!st.ok() || resp.duplicate()) {
      state.SkipWithError(("accept failed: " + st.error_message()).c_str());
      break;
    }
    ++events;
  }
  Report(state, events);
}
BENCHMARK(BM_Accept)->Unit(benchmark::kMicrosecond)->UseRealTime()->Threads(1)->Threads(16);

void BM_GrpcUnary(benchmark::State& state) {
  Env& env = E();
  int64_t events = 0;
  for (auto _ : state) {
    const v1::VerzuimMelding m = Melding(next_id.fetch_add(1));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::MeldAntwoord resp;
    grpc::Status st = env.stub->MeldVerzuim(&ctx, m, &resp);
    if (!st.ok() || resp.duplicate()) {
      state.SkipWithError(("MeldVerzuim failed: " + st.error_message()).c_str());
      break;
    }
    ++events;
  }
  Report(state, events);
}
BENCHMARK(BM_GrpcUnary)->Unit(benchmark::kMicrosecond)->UseRealTime()->Threads(1)->Threads(16);

void BM_GrpcBatch(benchmark::State& state) {
  Env& env = E();
  int64_t events = 0;
  for (auto _ : state) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::BatchAntwoord resp;
    auto writer = env.stub->MeldBatch(&ctx, &resp);
    for (int i = 0; i < kBatchSize; ++i) {
      if (!writer->Write(Wrap(Melding(next_id.fetch_add(1))))) break;
    }
    writer->WritesDone();
    grpc::Status st = writer->Finish();
    if (!st.ok() || resp.accepted() != kBatchSize) {
      state.SkipWithError(("MeldBatch failed: " + st.error_message()).c_str());
      break;
    }
    events += kBatchSize;
  }
  Report(state, events);
}
BENCHMARK(BM_GrpcBatch)->Unit(benchmark::kMillisecond)->UseRealTime()->Threads(1);

// The CPU part of every event: validation and the HMAC pseudonym.
void BM_ValidateAndPseudonym(benchmark::State& state) {
  const identity::Pseudonymizer pseudonymizer = *identity::Pseudonymizer::Create("bench-secret-0123456789abcdef");
  std::vector<v1::Event> events;
  for (int i = 0; i < 1000; ++i) events.push_back(Wrap(Melding(i)));
  size_t i = 0;
  int64_t n = 0;
  for (auto _ : state) {
    const v1::Event& e = events[i++ % events.size()];
    benchmark::DoNotOptimize(identity::Validate(e));
    benchmark::DoNotOptimize(pseudonymizer.Of(e.verzuimmelding().leerling()));
    ++n;
  }
  Report(state, n);
}
BENCHMARK(BM_ValidateAndPseudonym)->Unit(benchmark::kMicrosecond);

// The dedupe window's part of every event, in a window gone round many times
// (every claim forgets the oldest id): ids as ingest makes them (events::CeId,
// 32 hex digits, read as their 128 bits), fingerprints as digests.
void BM_DedupWindow(benchmark::State& state) {
  const size_t capacity = IngestOptions().dedup_capacity;
  std::vector<std::string> ids;
  for (size_t i = 0; i < 4 * capacity; ++i) {
    ids.push_back(identity::Sha256Hex(absl::StrCat("verzuimmelding|05KO|m-", i)).substr(0, 32));
  }
  const DedupWindow::Digest fingerprint = DedupWindow::DigestOf("content");
  DedupWindow window(capacity);
  size_t i = 0;
  int64_t n = 0;
  for (auto _ : state) {
    const std::string& id = ids[i++ % ids.size()];
    DedupWindow::Ticket ticket;
    benchmark::DoNotOptimize(window.TryClaim(DedupWindow::DigestOf(id), fingerprint, absl::Seconds(1), &ticket));
    window.Complete(ticket, true);
    ++n;
  }
  Report(state, n);
}
BENCHMARK(BM_DedupWindow)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace inbeeld::ingest

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Plain tabular output (no colour codes), so figures paste into the docs.
  inbeeld::ingest::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

// Throughput of the signaling service loop, in-process:
//   BM_CoreApply        the pure core (Jongere::Apply per event, then one
//                       AdvanceTo(horizon) per jongere) on the same events:
//                       the baseline
//   BM_BareConsume      a bare group consumer polling every record (what the
//                       embedded Kafka alone costs)
//   BM_ServiceRunOnce   SignalingService::RunOnce until every pre-produced
//                       event is consumed: decode, pseudonym check, core,
//                       signals produced and acked, changelog produced and
//                       acked, RocksDB WriteBatch (sync_writes 0/1) per batch
// The events (2000 jongeren, about 6 events each, four topics, 4 partitions
// each). Every Kafka run gets a fresh embedded cluster and RocksDB directory;
// the consumer joins on empty topics BEFORE the events are produced and the
// clock starts (the mock's group join takes seconds and is not throughput).
// One iteration = the whole data set, timed manually. Run in registration
// order, later benchmarks report `ratio_to_core` = their events/s divided by
// the core's (wall time, same process, same load).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "inbeeld/cli/demo_scenario.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"
#include "services/signaling/core/tests/test_events.h"
#include "bench/common/school_year_mix.h"
#include "inbeeld/signaling/signaling_service.h"
#include "inbeeld/signaling/signaling_store.h"

namespace inbeeld::signaling {
namespace {

namespace t = testing;

constexpr int kPartitions = 4;
constexpr int kJongeren = 2000;
const absl::CivilDay kToday(2024, 12, 1);

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "signaling_pipeline_bench: %s\n", what.c_str());
  std::exit(1);
}


// Valid BSNs (eleven-test): validation and the pseudonym check need them.
std::string Bsn(int n) { return cli::SyntheticBsn(n); }

// One school year of a jongere, the workload of bench/signaling.
std::vector<v1::Event> Mix(int n, std::mt19937& rng) { return bench::SchoolYearMix(Bsn(n), rng); }

class FixedDate final : public DateSource {
 public:
  absl::CivilDay Today() const override { return kToday; }
};

// The data set: every jongere's events, generated once.
struct DataSet {
  identity::Pseudonymizer pseudonymizer = *identity::Pseudonymizer::Create("bench-secret-0123456789abcdef");
  std::vector<std::vector<v1::Event>> jongeren;
  int64_t events = 0;

  DataSet() {
    std::mt19937 rng(1);
    for (int i = 0; i < kJongeren; ++i) {
      jongeren.push_back(Mix(i, rng));
      for (const v1::Event& e : jongeren.back()) {
        if (auto v = identity::Validate(e); !v.empty()) Die("invalid event: " + identity::Describe(v));
        ++events;
      }
    }
  }
};

DataSet& D() {
  static DataSet* data = new DataSet();
  return *data;
}

// A fresh embedded cluster per run, so every run starts from empty topics:
// the consumer joins the group first (not timed: the mock's join takes
// seconds), then the data set is produced, then the clock starts.
struct Cluster {
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  kafka::ClientOptions kopts;
  std::unique_ptr<kafka::Producer> producer;
  std::map<kafka::TopicPartition, int64_t> end_offsets;  // what "all consumed" means

  Cluster() {
    auto c = kafka::EmbeddedCluster::Start(1);
    if (!c.ok()) Die(std::string(c.status().message()));
    cluster = std::move(*c);
    if (auto s = cluster->CreateTopics(kafka::InBeeldTopics(kPartitions, 1)); !s.ok()) Die(std::string(s.message()));
    kopts.bootstrap_servers = cluster->bootstrap_servers();
    auto p = kafka::Producer::Create(kopts);
    if (!p.ok()) Die(std::string(p.status().message()));
    producer = std::move(*p);
  }

  void ProduceAll(const DataSet& data) {
    absl::Mutex mu;
    for (const auto& ev : data.jongeren) {
      for (const v1::Event& e : ev) {
        auto s = producer->Produce(events::Encode(e, data.pseudonymizer, absl::Now()),
                                   [&](const kafka::DeliveryReport& r) {
                                     absl::MutexLock lock(&mu);
                                     auto& end = end_offsets[{r.topic, r.partition}];
                                     end = std::max(end, r.offset + 1);
                                   });
        if (!s.ok()) Die(std::string(s.message()));
      }
    }
    if (auto s = producer->Flush(absl::Seconds(60)); !s.ok()) Die(std::string(s.message()));
  }
};

double core_rate = 0;

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
      if (r.benchmark_name().rfind("BM_CoreApply", 0) == 0) core_rate = it->second.value;
      if (core_rate > 0) r.counters["ratio_to_core"] = benchmark::Counter(it->second.value / core_rate);
    }
    ConsoleReporter::ReportRuns(out);
  }
};

void BM_CoreApply(benchmark::State& state) {
  DataSet& env = D();
  const CoreConfig config;
  const absl::CivilDay horizon = kToday - 1;
  int64_t events = 0, signals = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < env.jongeren.size(); ++i) {
      Jongere j;
      const std::string pseudo = env.pseudonymizer.Of(env.jongeren[i][0].inschrijvingsmutatie().leerling());
      for (const v1::Event& e : env.jongeren[i]) signals += static_cast<int64_t>(j.Apply(e, pseudo, config).size());
      signals += static_cast<int64_t>(j.AdvanceTo(horizon, pseudo, config).size());
      benchmark::DoNotOptimize(j.state().ByteSizeLong());
      events += static_cast<int64_t>(env.jongeren[i].size());
    }
  }
  state.SetItemsProcessed(events);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["signals_per_jongere"] =
      static_cast<double>(signals) / static_cast<double>(state.iterations() * kJongeren);
}
BENCHMARK(BM_CoreApply)->Unit(benchmark::kMillisecond)->UseRealTime();

// Kafka alone: a bare group consumer polling every record, no processing.
void BM_BareConsume(benchmark::State& state) {
  DataSet& data = D();
  int64_t events = 0;
  double produce_seconds = 0;
  for (auto _ : state) {
    Cluster c;
    kafka::ConsumerOptions co;
    static_cast<kafka::ClientOptions&>(co) = c.kopts;
    co.group_id = "bare-consume";
    for (auto t : kafka::kEventTopics) co.topics.emplace_back(t);
    auto consumer = kafka::Consumer::Create(co);
    if (!consumer.ok()) Die(std::string(consumer.status().message()));
    const absl::Time join_deadline = absl::Now() + absl::Seconds(60);
    while ((*consumer)->Assignment().empty() && absl::Now() < join_deadline) {
      if (auto r = (*consumer)->Poll(absl::Milliseconds(100)); !r.ok()) Die(std::string(r.status().message()));
    }
    if ((*consumer)->Assignment().empty()) Die("no assignment within 60 s");
    const absl::Time produce_start = absl::Now();
    c.ProduceAll(data);
    // The other half of Kafka's cost: the same records produced async and
    // flushed (acks=all, linger.ms=5), as the service does per batch.
    produce_seconds += absl::ToDoubleSeconds(absl::Now() - produce_start);
    const absl::Time start = absl::Now();
    int64_t n = 0;
    while (n < data.events) {
      auto r = (*consumer)->Poll(absl::Seconds(10));
      if (!r.ok()) Die(std::string(r.status().message()));
      if (!r->has_value()) Die("bare consumer stalled");
      ++n;
    }
    state.SetIterationTime(absl::ToDoubleSeconds(absl::Now() - start));
    events += n;
    (*consumer)->Close();
  }
  state.counters["produce_flush_events_per_s"] = static_cast<double>(events) / produce_seconds;
  state.SetItemsProcessed(events);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BareConsume)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// Arg 0: RocksDB sync_writes (fsync per batch commit); arg 1: max_batch_records.
void BM_ServiceRunOnce(benchmark::State& state) {
  DataSet& data = D();
  static int run = 0;
  const bool sync = state.range(0) != 0;
  int64_t events = 0, batches = 0;
  for (auto _ : state) {
    const std::string dir = "/tmp/inbeeld-pipeline-bench-" + std::to_string(getpid()) + "-" + std::to_string(run);
    const std::string group = "pipeline-bench-" + std::to_string(run++);
    std::filesystem::remove_all(dir);
    Cluster env;
    auto store = SignalingStore::Open(dir, sync);
    if (!store.ok()) Die(std::string(store.status().message()));
    SignalingOptions opts;
    opts.max_batch_records = static_cast<int>(state.range(1));
    FixedDate dates;
    SignalingService service(**store, *env.producer, data.pseudonymizer, dates, env.kopts, opts);
    auto consumer = kafka::Consumer::Create(service.ConsumerOptionsFor(group));
    if (!consumer.ok()) Die(std::string(consumer.status().message()));
    // Join first (not timed), on empty topics.
    const absl::Time join_deadline = absl::Now() + absl::Seconds(60);
    while ((*consumer)->Assignment().empty() && absl::Now() < join_deadline) {
      if (auto s = service.RunOnce(**consumer); !s.ok()) Die(std::string(s.message()));
    }
    if ((*consumer)->Assignment().empty()) Die("no assignment within 60 s");
    env.ProduceAll(data);
    auto all_consumed = [&] {
      for (const auto& [tp, end] : env.end_offsets) {
        if ((*store)->GetOffset(tp).value_or(0) < end) return false;
      }
      return true;
    };
    int64_t already = 0;
    for (const auto& [tp, end] : env.end_offsets) already += (*store)->GetOffset(tp).value_or(0);
    const absl::Time start = absl::Now();
    while (!all_consumed()) {
      if (auto s = service.RunOnce(**consumer); !s.ok()) Die(std::string(s.message()));
      ++batches;
    }
    state.SetIterationTime(absl::ToDoubleSeconds(absl::Now() - start));
    events += data.events - already;
    (*consumer)->Close();
    consumer->reset();
    store->reset();
    std::filesystem::remove_all(dir);
  }
  state.SetItemsProcessed(events);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events_per_batch"] = static_cast<double>(events) / static_cast<double>(batches);
}
BENCHMARK(BM_ServiceRunOnce)
    ->ArgNames({"sync", "max_batch"})
    ->Args({0, 100})
    ->Args({0, 500})
    ->Args({1, 500})
    ->Args({0, 2000})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace inbeeld::signaling

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  inbeeld::signaling::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

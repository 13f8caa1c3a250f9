// Throughput of the signaling core on a realistic event mix, and the size of
// the per-jongere state (what the service stores in RocksDB).
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "inbeeld/util/dates.h"
#include "services/signaling/core/feiten.h"
#include "services/signaling/core/jongere.h"
#include "services/signaling/core/test_events.h"
#include "bench/common/school_year_mix.h"

namespace inbeeld::signaling {
namespace {

namespace t = testing;


std::vector<v1::Event> Mix(int n, std::mt19937& rng) {
  // Validity of the BSN is not checked by the core.
  return bench::SchoolYearMix(std::to_string(100000000 + n), rng);
}

// Events/s applying the mix per jongere as the service would: each event,
// then AdvanceTo(event date) (the daily tick), then 90 days of timers.
void BM_ApplyRealisticMix(benchmark::State& state) {
  std::mt19937 rng(1);
  std::vector<std::vector<v1::Event>> jongeren;
  for (int i = 0; i < 1000; ++i) jongeren.push_back(Mix(i, rng));
  const CoreConfig config;
  int64_t events = 0, signalen = 0, state_bytes = 0, states = 0;
  size_t next = 0;
  for (auto _ : state) {
    const std::vector<v1::Event>& ev = jongeren[next++ % jongeren.size()];
    Jongere j;
    const std::string pseudo = "p" + std::to_string(next);
    for (const v1::Event& e : ev) {
      signalen += static_cast<int64_t>(j.Apply(e, pseudo, config).size());
      signalen += static_cast<int64_t>(j.AdvanceTo(*DatumVan(e), pseudo, config).size());
    }
    signalen += static_cast<int64_t>(j.AdvanceTo(*DatumVan(ev.back()) + 90, pseudo, config).size());
    events += static_cast<int64_t>(ev.size());
    state_bytes += static_cast<int64_t>(j.ToState().ByteSizeLong());
    ++states;
  }
  state.SetItemsProcessed(events);
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["signals_per_jongere"] = static_cast<double>(signalen) / static_cast<double>(states);
  state.counters["state_bytes_per_jongere"] = static_cast<double>(state_bytes) / static_cast<double>(states);
}
BENCHMARK(BM_ApplyRealisticMix)->Unit(benchmark::kMicrosecond);

// The daily tick over a year after the last event (the service's timer loop):
// most days are skipped via the wekker, timer days recompute.
void BM_DailyTickIdle(benchmark::State& state) {
  std::mt19937 rng(2);
  const std::vector<v1::Event> ev = Mix(1, rng);
  const CoreConfig config;
  Jongere j;
  for (const v1::Event& e : ev) j.Apply(e, "p", config);
  const absl::CivilDay begin = *DatumVan(ev.back());
  j.AdvanceTo(begin, "p", config);
  const internal::v1::JongereState basis = j.ToState();
  absl::CivilDay d = begin;
  for (auto _ : state) {
    d += 1;
    if (d - begin > 365) {  // a year of ticks, then start over
      state.PauseTiming();
      j = Jongere::FromState(basis);
      d = begin + 1;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(j.AdvanceTo(d, "p", config));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DailyTickIdle)->Unit(benchmark::kMicrosecond);

// Restore from and serialize to the stored state (RocksDB value).
void BM_StateRoundTrip(benchmark::State& state) {
  std::mt19937 rng(3);
  const std::vector<v1::Event> ev = Mix(1, rng);
  const CoreConfig config;
  Jongere j;
  for (const v1::Event& e : ev) j.Apply(e, "p", config);
  const std::string bytes = j.ToState().SerializeAsString();
  for (auto _ : state) {
    internal::v1::JongereState s;
    s.ParseFromString(bytes);
    Jongere r = Jongere::FromState(s);
    benchmark::DoNotOptimize(r.ToState().SerializeAsString());
  }
  state.counters["state_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_StateRoundTrip)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace inbeeld::signaling

BENCHMARK_MAIN();

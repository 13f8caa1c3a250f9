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

namespace inbeeld::signaling {
namespace {

namespace t = testing;

std::string Dag(absl::CivilDay d) { return util::FormatDate(d); }

// One school year of a jongere: enrolment, some meldingen, sometimes a move,
// an uitschrijving with or without a new school, sometimes a vrijstelling or a
// BRP event. About 8 events per jongere.
std::vector<v1::Event> Mix(int n, std::mt19937& rng) {
  t::Persoon p;
  p.bsn = std::to_string(100000000 + n);  // validity is not checked by the core
  const absl::CivilDay geb = absl::CivilDay(2006, 1, 1) + static_cast<int>(rng() % (365 * 12));
  p.geboortedatum = Dag(geb);
  p.woongemeente = std::to_string(1000 + rng() % 300).substr(0, 4);
  const absl::CivilDay start(2023, 8, 1);
  std::vector<v1::Event> ev;
  ev.push_back(t::Inschrijving(p, "i0", Dag(start)));
  absl::CivilDay d = start + static_cast<int>(30 + rng() % 60);
  for (int m = 0; m < 3; ++m) {
    ev.push_back(t::Melding(p, "m" + std::to_string(m),
                            rng() % 4 == 0 ? v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM
                                           : v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN,
                            Dag(d), Dag(d - 20), Dag(d - 1)));
    d += static_cast<int>(10 + rng() % 40);
  }
  if (rng() % 3 == 0) {
    ev.push_back(t::Adres(p, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, Dag(d), "0599"));
  }
  d += static_cast<int>(rng() % 30);
  ev.push_back(t::Uitschrijving(p, "u1", Dag(d)));
  if (rng() % 2 == 0) {
    ev.push_back(t::Inschrijving(p, "i1", Dag(d + static_cast<int>(rng() % 20)), v1::ONDERWIJSSOORT_VO, "07NU"));
  } else if (rng() % 2 == 0) {
    ev.push_back(t::Vrijstelling(p, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, Dag(d + 3), Dag(d + 120)));
  }
  if (rng() % 10 == 0) {
    ev.push_back(t::Adres(p, "a2", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, Dag(d + 40)));
  }
  std::stable_sort(ev.begin(), ev.end(),
                   [](const v1::Event& a, const v1::Event& b) { return CanonicalLess(a, b); });
  return ev;
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

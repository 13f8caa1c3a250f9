// Throughput of the signaling core on a realistic event mix, and the size of
// the per-jongere state (what the service stores in RocksDB).
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"
#include "inbeeld/signaling/core/state_codec.h"
#include "services/signaling/core/tests/test_events.h"
#include "services/signaling/core/tests/volledige_wakeup.h"
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

// The stored states of 1000 school years, as the service leaves them (events
// applied with the daily tick, then 200 days of timers).
std::vector<internal::v1::JongereState> OpgeslagenStaten() {
  std::mt19937 rng(3);
  const CoreConfig config;
  std::vector<internal::v1::JongereState> staten;
  for (int i = 0; i < 1000; ++i) {
    const std::vector<v1::Event> ev = Mix(i, rng);
    const std::string pseudo(64, 'p');
    Jongere j;
    for (const v1::Event& e : ev) {
      j.Apply(e, pseudo, config);
      j.AdvanceTo(*DatumVan(e), pseudo, config);
    }
    j.AdvanceTo(*DatumVan(ev.back()) + 200, pseudo, config);
    staten.push_back(j.ToState());
  }
  return staten;
}

// Arg 0: the old stored form (protobuf), 1: the compact form (state_codec.h).
std::string Sla(const internal::v1::JongereState& s, int64_t vorm) {
  return vorm == 0 ? s.SerializeAsString() : EncodeJongereState(s);
}

void BM_StateEncode(benchmark::State& state) {
  const std::vector<internal::v1::JongereState> staten = OpgeslagenStaten();
  size_t next = 0, bytes = 0;
  for (auto _ : state) {
    const std::string b = Sla(staten[next++ % staten.size()], state.range(0));
    bytes += b.size();
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["state_bytes"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_StateEncode)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_StateDecode(benchmark::State& state) {
  std::vector<std::string> opgeslagen;
  for (const auto& s : OpgeslagenStaten()) opgeslagen.push_back(Sla(s, state.range(0)));
  size_t next = 0;
  for (auto _ : state) {
    absl::StatusOr<internal::v1::JongereState> s = DecodeJongereState(opgeslagen[next++ % opgeslagen.size()]);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StateDecode)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// The wake-up day the service computes per jongere per batch (Stage), for
// school years evaluated through their last event and through a later day
// (as on the real clock). Arg 0: the whole evaluation up to the horizon (the
// earlier NextWakeup, volledige_wakeup.h); 1: NextWakeup, which stops at the
// first signal day.
void BM_NextWakeup(benchmark::State& state) {
  std::mt19937 rng(4);
  const CoreConfig config;
  std::vector<Jongere> jongeren;
  for (int i = 0; i < 500; ++i) {
    const std::vector<v1::Event> ev = Mix(i, rng);
    Jongere j;
    for (const v1::Event& e : ev) j.Apply(e, "p", config);
    j.AdvanceTo(*DatumVan(ev.back()), "p", config);
    jongeren.push_back(j);
    j.AdvanceTo(absl::CivilDay(2026, 11, 30), "p", config);
    jongeren.push_back(std::move(j));
  }
  size_t next = 0;
  int64_t found = 0;
  for (auto _ : state) {
    const Jongere& j = jongeren[next++ % jongeren.size()];
    const std::optional<absl::CivilDay> d =
        state.range(0) == 0 ? testing::VolledigeWakeup(j, config) : j.NextWakeup(config);
    found += d.has_value() ? 1 : 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["with_wakeup"] = static_cast<double>(found) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_NextWakeup)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// What signaling does for a jongere per batch (Load, Process, AdvanceBatch,
// Stage, Emit): the stored bytes decoded and the old wake-up day (when it
// was stored before), its events of the batch applied, the batch finished at
// the horizon, the new wake-up day, the state encoded, the signals
// serialized, and all of it freed. Kafka, RocksDB and the pseudonym check
// are left out: this is the service's own work on the core's side, which
// e2e_bench cannot tell apart from the plumbing. Arg 0: a jongere's events
// in one batch (e2e_bench's input is population_gen's, jongere by jongere);
// 1: a stream in date order, each event in a batch of its own. Per event.
void BM_BatchCycle(benchmark::State& state) {
  std::mt19937 rng(5);
  const CoreConfig config;
  constexpr int kAantal = 2000;
  std::vector<std::vector<v1::Event>> jongeren;
  for (int i = 0; i < kAantal; ++i) jongeren.push_back(Mix(i, rng));
  // The batches: (jongere, first event, events).
  struct Batch {
    int jongere, eerste, aantal;
  };
  std::vector<Batch> batches;
  if (state.range(0) == 0) {
    for (int i = 0; i < kAantal; ++i) batches.push_back({i, 0, static_cast<int>(jongeren[i].size())});
  } else {
    std::vector<std::pair<absl::CivilDay, Batch>> volgorde;
    for (int i = 0; i < kAantal; ++i) {
      for (int k = 0; k < static_cast<int>(jongeren[i].size()); ++k) {
        volgorde.push_back({*DatumVan(jongeren[i][k]), {i, k, 1}});
      }
    }
    std::stable_sort(volgorde.begin(), volgorde.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& v : volgorde) batches.push_back(v.second);
  }
  std::vector<std::string> pseudo;
  for (int i = 0; i < kAantal; ++i) pseudo.push_back(std::string(60, 'p') + std::to_string(1000 + i));
  const absl::CivilDay horizon(2026, 11, 30);
  std::vector<std::string> opgeslagen(kAantal);
  size_t next = 0;
  int64_t events = 0, signalen = 0;
  std::string uit;
  const auto serialiseer = [&](const std::vector<v1::Signaal>& lijst) {
    for (const v1::Signaal& sig : lijst) {
      sig.SerializeToString(&uit);
      ++signalen;
    }
  };
  for (auto _ : state) {
    if (next == batches.size()) {
      state.PauseTiming();
      next = 0;
      for (std::string& b : opgeslagen) b.clear();
      state.ResumeTiming();
    }
    const Batch& batch = batches[next++];
    const std::string& p = pseudo[batch.jongere];
    Jongere j;
    std::optional<absl::CivilDay> oud;
    if (!opgeslagen[batch.jongere].empty()) {
      absl::StatusOr<internal::v1::JongereState> s = DecodeJongereState(opgeslagen[batch.jongere]);
      if (!s.ok()) {
        state.SkipWithError("a stored state does not decode");
        break;
      }
      j = Jongere::FromState(*std::move(s));
      const auto vastgelegd = j.WekkerInIndex();  // as SignalingService::Load
      oud = vastgelegd ? *vastgelegd : j.NextWakeup(config);
    }
    for (int k = batch.eerste; k < batch.eerste + batch.aantal; ++k) {
      v1::Event event = jongeren[batch.jongere][k];  // the record's decoded event
      serialiseer(j.ApplyInBatch(std::move(event), p, config).signalen);
    }
    serialiseer(j.FinishBatch(horizon, p, config));
    const std::optional<absl::CivilDay> nieuw = j.NextWakeup(config);
    benchmark::DoNotOptimize(oud);
    j.SetWekkerInIndex(nieuw);  // as SignalingService::Stage
    opgeslagen[batch.jongere] = EncodeJongereState(j.state());
    events += batch.aantal;
  }
  state.SetItemsProcessed(events);
  state.counters["us_per_event"] = benchmark::Counter(static_cast<double>(events),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["signals_per_event"] = static_cast<double>(signalen) / static_cast<double>(events);
}
BENCHMARK(BM_BatchCycle)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace inbeeld::signaling

BENCHMARK_MAIN();

// Live signaling on a cluster judges each jongere on the events that have arrived; when events arrive after their
// day was judged (four topics, separate batches, a school that reports late) it may emit provisional signals that a
// later event resolves. What it must never do is miss one of replay's signals: once every event is in, each
// signaal_id that `inbeeld replay` (every event known on its day) emits has been emitted live too. Checked here on
// generated school years (bench/common) in shuffled arrival order, with evaluations up to a far later day in
// between and the state stored and reloaded after every event, as the service does per batch.
#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench/common/school_year_mix.h"
#include "gtest/gtest.h"
#include "inbeeld/signaling/core/jongere.h"
#include "services/signaling/core/tests/test_events.h"

namespace inbeeld::signaling {
namespace {

TEST(LateArrival, EveryReplaySignalIsEmittedWhateverTheArrivalOrder) {
  std::mt19937 rng(20261201);
  const CoreConfig config;
  const absl::CivilDay later(2025, 5, 31);  // far after every event: each evaluation judges "late"
  int with_provisional = 0;
  for (int i = 0; i < 400; ++i) {
    const std::vector<v1::Event> events = bench::SchoolYearMix(testing::kBsn, rng);
    std::set<std::string> replay;
    for (const v1::Signaal& s : testing::SpeelAlsReplay(events, "2025-05-31")) replay.insert(s.signaal_id());

    std::vector<v1::Event> arrival = events;
    std::shuffle(arrival.begin(), arrival.end(), rng);
    Jongere live;
    std::set<std::string> emitted;
    auto keep = [&](const std::vector<v1::Signaal>& signals) {
      for (const v1::Signaal& s : signals) emitted.insert(s.signaal_id());
    };
    for (const v1::Event& e : arrival) {
      keep(live.Apply(e, "pseudo", config));
      live = Jongere::FromState(live.state());
      if (rng() % 2 == 0) keep(live.AdvanceTo(later, "pseudo", config));
    }
    keep(live.AdvanceTo(later, "pseudo", config));

    for (const std::string& id : replay) {
      EXPECT_TRUE(emitted.contains(id)) << "school year " << i << ": replay's signal " << id << " never emitted live";
    }
    with_provisional += emitted.size() > replay.size() ? 1 : 0;
  }
  // Late arrival does make provisional signals (ARCHITECTURE.md "Event time"): the scenario exercises them.
  EXPECT_GT(with_provisional, 0);
}

}  // namespace
}  // namespace inbeeld::signaling

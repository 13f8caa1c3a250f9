// Jongere::NextWakeup (the service's wake-up index) stops evaluating at the
// first signal day it finds. It must give what the whole evaluation gives: the
// earliest peildatum after the evaluated day among the signals of
// Bereken(horizon).
#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "bench/common/school_year_mix.h"
#include "gtest/gtest.h"
#include "inbeeld/signaling/core/jongere.h"
#include "inbeeld/util/dates.h"
#include "services/signaling/core/tests/test_events.h"
#include "services/signaling/core/tests/volledige_wakeup.h"

namespace inbeeld::signaling {
namespace {

TEST(NextWakeup, EqualsTheEarliestSignalDayOfTheWholeEvaluation) {
  std::mt19937 rng(20261201);
  const CoreConfig config;
  int compared = 0, with_wakeup = 0;
  for (int i = 0; i < 300; ++i) {
    std::vector<v1::Event> events = bench::SchoolYearMix(testing::kBsn, rng);
    std::stable_sort(events.begin(), events.end(),
                     [](const v1::Event& a, const v1::Event& b) { return *DatumVan(a) < *DatumVan(b); });
    Jongere j;
    auto vergelijk = [&] {
      const std::optional<absl::CivilDay> verwacht = testing::VolledigeWakeup(j, config);
      ASSERT_EQ(j.NextWakeup(config), verwacht) << "school year " << i << " after day "
                                                << util::FormatDate(*j.EvaluatedThrough());
      ++compared;
      with_wakeup += verwacht.has_value() ? 1 : 0;
    };
    for (const v1::Event& e : events) {
      j.Apply(e, "pseudo", config);
      vergelijk();
      j.AdvanceTo(*DatumVan(e), "pseudo", config);
      vergelijk();
    }
    // Timers: the days the wake-up index would pick, and some in between.
    for (int stap = 0; stap < 8; ++stap) {
      const std::optional<absl::CivilDay> wakeup = j.NextWakeup(config);
      const absl::CivilDay volgende =
          wakeup && rng() % 2 == 0 ? *wakeup : *j.EvaluatedThrough() + 1 + static_cast<int>(rng() % 120);
      j.AdvanceTo(volgende, "pseudo", config);
      vergelijk();
    }
  }
  // The scenario has pending timers to find, not only "nothing pending".
  EXPECT_GT(with_wakeup, compared / 10);
}

}  // namespace
}  // namespace inbeeld::signaling

// Shortcuts of the core give what the whole computation they replace gives.
// - Jongere::NextWakeup (the service's wake-up index) stops evaluating at the
//   first signal day it finds: the earliest peildatum after the evaluated day
//   among the signals of Bereken(horizon).
// - Apply builds the VERZUIMMELDING of the melding just applied only, not
//   those of every melding of the jongere.
#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "bench/common/school_year_mix.h"
#include "gtest/gtest.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"
#include "inbeeld/signaling/core/tijdlijn.h"
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

TEST(Verzuimmeldingen, OneMeldingEqualsItsSignalAmongAll) {
  std::mt19937 rng(20261202);
  const CoreConfig config;
  int compared = 0;
  for (int i = 0; i < 300; ++i) {
    Jongere j;
    for (const v1::Event& e : bench::SchoolYearMix(testing::kBsn, rng)) j.Apply(e, "pseudo", config);
    const Feiten feiten = ParseFeiten(j.state().feiten());
    const Tijdlijn tijdlijn(feiten, "pseudo", config);
    const std::vector<v1::Signaal> alle = tijdlijn.Verzuimmeldingen();
    for (const MeldingFeit& m : feiten.meldingen) {
      std::vector<std::string> verwacht, kort;
      for (const v1::Signaal& s : alle) {
        if (s.oorzaak_event_ids_size() == 1 && s.oorzaak_event_ids(0) == m.ref) verwacht.push_back(s.SerializeAsString());
      }
      for (const v1::Signaal& s : tijdlijn.Verzuimmeldingen(m.ref)) kort.push_back(s.SerializeAsString());
      EXPECT_EQ(kort, verwacht) << "school year " << i;
      ++compared;
    }
    EXPECT_TRUE(tijdlijn.Verzuimmeldingen("no such ref").empty());
  }
  EXPECT_GT(compared, 300);
}

}  // namespace
}  // namespace inbeeld::signaling

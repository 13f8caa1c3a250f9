#pragma once
// The benchmark workload shared by bench/signaling and bench/pipeline: one
// school year of a jongere (enrolment, some meldingen, sometimes a move, an
// uitschrijving with or without a new school, sometimes a vrijstelling or a
// BRP event), about 8 events in canonical order.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"
#include "services/signaling/core/tests/test_events.h"

namespace inbeeld::signaling::bench {

inline std::vector<v1::Event> SchoolYearMix(const std::string& bsn, std::mt19937& rng) {
  const auto Dag = [](absl::CivilDay d) { return util::FormatDate(d); };
  testing::Persoon p;
  p.bsn = bsn;
  const absl::CivilDay geb = absl::CivilDay(2006, 1, 1) + static_cast<int>(rng() % (365 * 12));
  p.geboortedatum = Dag(geb);
  p.woongemeente = std::to_string(1000 + rng() % 300).substr(0, 4);
  const absl::CivilDay start(2023, 8, 1);
  std::vector<v1::Event> ev;
  ev.push_back(testing::Inschrijving(p, "i0", Dag(start)));
  absl::CivilDay d = start + static_cast<int>(30 + rng() % 60);
  for (int m = 0; m < 3; ++m) {
    ev.push_back(testing::Melding(p, "m" + std::to_string(m),
                            rng() % 4 == 0 ? v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM
                                           : v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN,
                            Dag(d), Dag(d - 20), Dag(d - 1)));
    d += static_cast<int>(10 + rng() % 40);
  }
  if (rng() % 3 == 0) {
    ev.push_back(testing::Adres(p, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, Dag(d), "0599"));
  }
  d += static_cast<int>(rng() % 30);
  ev.push_back(testing::Uitschrijving(p, "u1", Dag(d)));
  if (rng() % 2 == 0) {
    ev.push_back(testing::Inschrijving(p, "i1", Dag(d + static_cast<int>(rng() % 20)), v1::ONDERWIJSSOORT_VO, "07NU"));
  } else if (rng() % 2 == 0) {
    ev.push_back(testing::Vrijstelling(p, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, Dag(d + 3), Dag(d + 120)));
  }
  if (rng() % 10 == 0) {
    ev.push_back(testing::Adres(p, "a2", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, Dag(d + 40)));
  }
  std::stable_sort(ev.begin(), ev.end(),
                   [](const v1::Event& a, const v1::Event& b) { return CanonicalLess(a, b); });
  return ev;
}

// The mix's ids are unique per jongere only; ingest deduplicates by (bron, id)
// across jongeren, so a population fed through ingest prefixes them per
// jongere (e2e_bench, population_gen, the kafka pipeline test).
inline void MakeIdsUnique(v1::Event& e, const std::string& prefix) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding:
      e.mutable_verzuimmelding()->set_melding_id(prefix + e.verzuimmelding().melding_id());
      break;
    case v1::Event::kInschrijvingsmutatie:
      e.mutable_inschrijvingsmutatie()->set_mutatie_id(prefix + e.inschrijvingsmutatie().mutatie_id());
      break;
    case v1::Event::kAdresmutatie:
      e.mutable_adresmutatie()->set_mutatie_id(prefix + e.adresmutatie().mutatie_id());
      break;
    case v1::Event::kVrijstelling:
      e.mutable_vrijstelling()->set_id(prefix + e.vrijstelling().id());
      break;
    default:
      break;
  }
}

}  // namespace inbeeld::signaling::bench

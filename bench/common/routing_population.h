#pragma once
// A generated population for the routing properties (issue 8): the school
// year of bench/common/school_year_mix.h with real gemeentecodes, plus the
// situations in which a signal can lose its organisation: vertrek buitenland
// with or without a later BRP emigratie (0998), VOW (1999), vrijstelling-only
// jongeren (the granting gemeente is the only one named), one-day enrolments,
// moves during an open case and 18th birthdays during absoluut verzuim.
#include <array>
#include <random>
#include <string>
#include <vector>

#include "bench/common/school_year_mix.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"
#include "services/signaling/core/tests/test_events.h"

namespace inbeeld::signaling::bench {

// Gemeenten with a row in deploy/config/organisaties.csv, in 20 RMC-regio's.
inline constexpr std::array<const char*, 24> kEchteGemeenten = {
    "0363", "0599", "0200", "0957", "0085", "0141", "0209", "0243", "0277", "0303", "0340", "0397",
    "0502", "0546", "0606", "0664", "0743", "0777", "0866", "0928", "0988", "1652", "1696", "1900"};

namespace detail {

inline std::string Gemeente(std::mt19937& rng) { return kEchteGemeenten[rng() % kEchteGemeenten.size()]; }

inline std::string AndereGemeente(const std::string& g, std::mt19937& rng) {
  std::string n = Gemeente(rng);
  while (n == g) n = Gemeente(rng);
  return n;
}

// SchoolYearMix names gemeenten 1000..1299 (mostly not in the table): map
// each to a real one, keeping 0599 and the special codes.
inline void MaakEcht(std::vector<v1::Event>* ev) {
  auto echt = [](std::string* g) {
    if (g->size() == 4 && (*g)[0] == '1' && *g != "1999") *g = kEchteGemeenten[std::stoi(*g) % kEchteGemeenten.size()];
  };
  for (v1::Event& e : *ev) {
    if (e.has_inschrijvingsmutatie()) echt(e.mutable_inschrijvingsmutatie()->mutable_woongemeente());
    if (e.has_verzuimmelding()) echt(e.mutable_verzuimmelding()->mutable_woongemeente());
    if (e.has_vrijstelling()) echt(e.mutable_vrijstelling()->mutable_gemeente());
    if (e.has_adresmutatie()) echt(e.mutable_adresmutatie()->mutable_gemeente());
  }
}

}  // namespace detail

// The events of one jongere, in canonical order. Dates in school year
// 2025/26 (the dates), ages 5–17 on 1 August 2025.
inline std::vector<v1::Event> RoutingJongere(const std::string& bsn, std::mt19937& rng) {
  const auto Dag = [](absl::CivilDay d) { return util::FormatDate(d); };
  const int soort = static_cast<int>(rng() % 100);
  if (soort < 50) {
    std::vector<v1::Event> ev = SchoolYearMix(bsn, rng);
    detail::MaakEcht(&ev);
    return ev;
  }
  testing::Persoon p;
  p.bsn = bsn;
  const absl::CivilDay jaar(2025, 8, 1);
  absl::CivilDay geb = absl::CivilDay(2008, 1, 1) + static_cast<int>(rng() % (365 * 12));
  if (soort >= 95) geb = absl::CivilDay(2007, 9, 1) + static_cast<int>(rng() % 300);  // 18 during the year
  p.geboortedatum = Dag(geb);
  p.woongemeente = detail::Gemeente(rng);
  const absl::CivilDay d = jaar + static_cast<int>(20 + rng() % 200);  // the day things change
  std::vector<v1::Event> ev;
  auto verhuis = [&](const std::string& id, absl::CivilDay datum) {
    const std::string naar = detail::AndereGemeente(p.woongemeente, rng);
    ev.push_back(testing::Adres(p, id, v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, Dag(datum), naar));
    p.woongemeente = naar;
  };
  if (soort < 62) {
    // Vertrek buitenland; a BRP emigratie (0998) before or after S + 30.
    ev.push_back(testing::Inschrijving(p, "i0", Dag(jaar)));
    ev.push_back(testing::Uitschrijving(p, "u1", Dag(d), v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND));
    if (rng() % 4 != 0) {
      ev.push_back(testing::Adres(p, "e1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE,
                                  Dag(d + 1 + static_cast<int>(rng() % 90)), rng() % 2 ? "0998" : ""));
    }
  } else if (soort < 70) {
    // VOW (1999) while absoluut verzuim is open or pending; sometimes back.
    ev.push_back(testing::Inschrijving(p, "i0", Dag(jaar)));
    ev.push_back(testing::Uitschrijving(p, "u1", Dag(d)));
    const absl::CivilDay vow = d + static_cast<int>(rng() % 40);
    ev.push_back(testing::Adres(p, "a1", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, Dag(vow),
                                rng() % 2 ? "1999" : ""));
    if (rng() % 2) verhuis("a2", vow + static_cast<int>(1 + rng() % 60));
  } else if (soort < 80) {
    // Vrijstelling-only: the granting gemeente is the only gemeente named.
    const absl::CivilDay tot = d + static_cast<int>(rng() % 60);
    testing::Persoon g = p;
    v1::Event v = testing::Vrijstelling(g, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, Dag(jaar - 200), Dag(tot));
    v.mutable_vrijstelling()->set_bron(p.woongemeente);
    ev.push_back(std::move(v));
    const int vervolg = static_cast<int>(rng() % 3);
    if (vervolg == 0) verhuis("a1", tot + static_cast<int>(1 + rng() % 120));
    if (vervolg == 1) ev.push_back(testing::Inschrijving(p, "i1", Dag(tot + static_cast<int>(1 + rng() % 60))));
  } else if (soort < 85) {
    // One-day enrolment, uitschrijving with reden vertrek buitenland.
    ev.push_back(testing::Inschrijving(p, "i0", Dag(d)));
    ev.push_back(testing::Uitschrijving(p, "u1", Dag(d), v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND));
    if (rng() % 3 == 0) {
      ev.push_back(testing::Adres(p, "e1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE,
                                  Dag(d + 1 + static_cast<int>(rng() % 60)), "0998"));
    }
  } else {
    // Absoluut verzuim with one or two moves, then (often) a new school.
    ev.push_back(testing::Inschrijving(p, "i0", Dag(jaar)));
    ev.push_back(testing::Uitschrijving(p, "u1", Dag(d)));
    absl::CivilDay t = d + static_cast<int>(8 + rng() % 60);
    verhuis("a1", t);
    if (rng() % 2) verhuis("a2", t += static_cast<int>(1 + rng() % 40));
    if (rng() % 3) {
      ev.push_back(testing::Inschrijving(p, "i1", Dag(t + static_cast<int>(rng() % 40)), v1::ONDERWIJSSOORT_VO, "07NU"));
    }
  }
  std::stable_sort(ev.begin(), ev.end(),
                   [](const v1::Event& a, const v1::Event& b) { return CanonicalLess(a, b); });
  return ev;
}

}  // namespace inbeeld::signaling::bench

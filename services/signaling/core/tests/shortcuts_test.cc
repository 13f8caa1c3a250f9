// Shortcuts of the core give what the whole computation they replace gives.
// - Jongere::NextWakeup (the service's wake-up index) stops evaluating at the
//   first signal day it finds: the earliest peildatum after the evaluated day
//   among the signals of Bereken(horizon).
// - Apply builds the VERZUIMMELDING of the melding just applied only, not
//   those of every melding of the jongere.
// - ApplyInBatch + FinishBatch (the service's batch: the last event's
//   recomputation folded into the advance, one known to emit nothing left
//   out, NextWakeup found by the same evaluation) give what Apply for each
//   event, AdvanceTo and NextWakeup give; so does AdvanceWithWakeup.
// - A Tijdlijn given the ids already emitted (Jongere::Herbereken's) leaves
//   those signals out unbuilt; everything else is what the whole evaluation
//   gives, the cases' routes included.
#include <algorithm>
#include <optional>
#include <random>
#include <set>
#include <string>
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

std::vector<std::string> Serialized(const std::vector<v1::Signaal>& signalen) {
  std::vector<std::string> out;
  for (const v1::Signaal& s : signalen) out.push_back(s.SerializeAsString());
  return out;
}

TEST(BatchApply, EqualsApplyThenAdvanceThenNextWakeup) {
  std::mt19937 rng(20261203);
  const CoreConfig config;
  int batches = 0, folded = 0, signals = 0, late = 0;
  for (int i = 0; i < 400; ++i) {
    std::vector<v1::Event> events = bench::SchoolYearMix(testing::kBsn, rng);
    std::stable_sort(events.begin(), events.end(),
                     [](const v1::Event& a, const v1::Event& b) { return *DatumVan(a) < *DatumVan(b); });
    // Some arrive late: moved a few places on (cases opened and resolved afterwards).
    for (size_t k = 0; k + 1 < events.size(); ++k) {
      if (rng() % 5 != 0) continue;
      const size_t naar = std::min(events.size() - 1, k + 1 + rng() % 4);
      std::rotate(events.begin() + static_cast<std::ptrdiff_t>(k), events.begin() + static_cast<std::ptrdiff_t>(k) + 1,
                  events.begin() + static_cast<std::ptrdiff_t>(naar) + 1);
      ++late;
    }
    // Now and then an event arrives twice.
    if (!events.empty() && rng() % 3 == 0) events.push_back(events[rng() % events.size()]);
    Jongere los, samen;  // Apply + AdvanceTo + NextWakeup, and the folded form
    for (size_t begin = 0; begin < events.size();) {
      // Mostly a few events per batch; now and then all of them (a first load).
      const size_t eind = rng() % 8 == 0 ? events.size() : std::min(events.size(), begin + 1 + rng() % 4);
      absl::CivilDay horizon = *DatumVan(events[begin]);
      for (size_t k = begin; k < eind; ++k) horizon = std::max(horizon, *DatumVan(events[k]));
      switch (rng() % 4) {
        case 0: horizon -= static_cast<int>(rng() % 30); break;  // behind: only the recomputation
        case 1: break;
        default: horizon += static_cast<int>(rng() % 200); break;
      }
      std::vector<std::string> verwacht, kreeg;
      for (size_t k = begin; k < eind; ++k) {
        for (auto& s : Serialized(los.Apply(events[k], "pseudo", config))) verwacht.push_back(std::move(s));
      }
      // As the service advances a batch: only what lies behind the horizon.
      const std::optional<absl::CivilDay> na = los.EvaluatedThrough();
      if (na && *na < horizon) {
        for (auto& s : Serialized(los.AdvanceTo(horizon, "pseudo", config))) verwacht.push_back(std::move(s));
      }
      const std::optional<absl::CivilDay> wakeup = los.NextWakeup(config);

      for (size_t k = begin; k < eind; ++k) {
        Jongere::BatchApply b = samen.ApplyInBatch(events[k], "pseudo", config);
        for (auto& s : Serialized(b.signalen)) kreeg.push_back(std::move(s));
        folded += b.applied && k + 1 == eind ? 1 : 0;
      }
      for (auto& s : Serialized(samen.FinishBatch(horizon, "pseudo", config))) kreeg.push_back(std::move(s));
      ASSERT_EQ(kreeg, verwacht) << "school year " << i << ", events " << begin << ".." << eind;
      ASSERT_EQ(samen.state().SerializeAsString(), los.state().SerializeAsString())
          << "school year " << i << ", events " << begin << ".." << eind;
      ASSERT_EQ(samen.NextWakeup(config), wakeup) << "school year " << i << ", events " << begin << ".." << eind;
      ASSERT_EQ(samen.NextWakeup(config), testing::VolledigeWakeup(samen, config));
      signals += static_cast<int>(verwacht.size());
      ++batches;
      begin = eind;
    }
    // Timers: the advance alone, with the wake-up found along.
    for (int stap = 0; stap < 4; ++stap) {
      const std::optional<absl::CivilDay> wakeup = los.NextWakeup(config);
      const absl::CivilDay volgende = wakeup ? *wakeup : *los.EvaluatedThrough() + 1 + static_cast<int>(rng() % 120);
      const std::vector<std::string> verwacht = Serialized(los.AdvanceTo(volgende, "pseudo", config));
      ASSERT_EQ(Serialized(samen.AdvanceWithWakeup(volgende, "pseudo", config)), verwacht) << "school year " << i;
      ASSERT_EQ(samen.state().SerializeAsString(), los.state().SerializeAsString()) << "school year " << i;
      ASSERT_EQ(samen.NextWakeup(config), los.NextWakeup(config)) << "school year " << i;
    }
  }
  // The folded path ran often and produced signals, late events included.
  EXPECT_GT(folded, batches / 2);
  EXPECT_GT(signals, 1000);
  EXPECT_GT(late, 300);
}

// The route inputs of a signal, as routing reads them from it.
v1::ZaakRoute RouteVan(const v1::Signaal& signaal) {
  v1::ZaakRoute r;
  r.set_woongemeente(signaal.woongemeente());
  r.set_peildatum(signaal.peildatum());
  r.set_achttien_plus(signaal.achttien_plus());
  return r;
}

// The zaak's route as the AV signal itself gives it (RouteVan), and the rest
// of an AvZaak, as bytes.
std::string ZaakBytes(const AvZaak& z) {
  std::string out = z.signaal_id + "|" + util::FormatDate(z.begindatum);
  for (const v1::ZaakRoute& r : z.routes) out += "|" + r.SerializeAsString();
  return out;
}

TEST(BekendeSignalen, AreLeftOutOfTheEvaluationAndEverythingElseIsTheWholeEvaluations) {
  std::mt19937 rng(20261204);
  const CoreConfig config;
  int weggelaten = 0, av = 0;
  std::set<v1::SignaalSoort> soorten;
  for (int i = 0; i < 400; ++i) {
    Jongere j;
    for (const v1::Event& e : bench::SchoolYearMix(testing::kBsn, rng)) j.Apply(e, "pseudo", config);
    const Feiten feiten = ParseFeiten(j.state().feiten());
    if (feiten.Leeg()) continue;
    const absl::CivilDay tot = *j.EvaluatedThrough() + static_cast<int>(rng() % 200);
    const Tijdlijn heel(feiten, "pseudo", config);
    const TijdlijnResultaat alles = heel.Bereken(tot);

    // Some of its signals emitted before: their Vingerafdrukken, sorted.
    std::set<std::string> bekend;
    for (const v1::Signaal& s : alles.signalen) {
      if (rng() % 2 == 0) bekend.insert(Vingerafdruk(s.signaal_id()));
    }
    google::protobuf::RepeatedPtrField<std::string> uitgegeven;
    for (const std::string& id : bekend) *uitgegeven.Add() = id;
    const Tijdlijn kort(feiten, "pseudo", config, &uitgegeven);
    const TijdlijnResultaat rest = kort.Bereken(tot);

    std::vector<std::string> verwacht;
    for (const v1::Signaal& s : alles.signalen) {
      if (bekend.contains(Vingerafdruk(s.signaal_id()))) {
        ++weggelaten;
        soorten.insert(s.soort());
      } else {
        verwacht.push_back(s.SerializeAsString());
      }
    }
    ASSERT_EQ(Serialized(rest.signalen), verwacht) << "school year " << i;
    ASSERT_EQ(rest.av_zaken.size(), alles.av_zaken.size()) << "school year " << i;
    for (size_t k = 0; k < rest.av_zaken.size(); ++k) {
      EXPECT_EQ(ZaakBytes(rest.av_zaken[k]), ZaakBytes(alles.av_zaken[k])) << "school year " << i;
    }
    EXPECT_EQ(rest.absoluut_verzuim_open, alles.absoluut_verzuim_open);
    EXPECT_EQ(rest.uit_beeld, alles.uit_beeld);
    EXPECT_EQ(rest.lrv_open, alles.lrv_open);
    EXPECT_EQ(rest.volgende_dag, alles.volgende_dag);
    // The case's first route, found without its signal, is the signal's own.
    for (const v1::Signaal& s : alles.signalen) {
      if (s.soort() != v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM) continue;
      const auto z = std::find_if(alles.av_zaken.begin(), alles.av_zaken.end(),
                                  [&](const AvZaak& a) { return a.signaal_id == s.signaal_id(); });
      ASSERT_NE(z, alles.av_zaken.end());
      EXPECT_EQ(z->routes.front().SerializeAsString(), RouteVan(s).SerializeAsString()) << "school year " << i;
      ++av;
    }
    // The search for the next signal day does not depend on what was emitted.
    std::optional<absl::CivilDay> dag_heel, dag_kort;
    const absl::CivilDay horizon = tot + 400;
    const TijdlijnResultaat zoek_heel = heel.BerekenEnZoek(tot, horizon, &dag_heel);
    const TijdlijnResultaat zoek_kort = kort.BerekenEnZoek(tot, horizon, &dag_kort);
    EXPECT_EQ(dag_kort, dag_heel) << "school year " << i;
    EXPECT_EQ(Serialized(zoek_kort.signalen), verwacht) << "school year " << i;
  }
  // Cases, their resolutions and the uit-beeld signals were among those left out.
  EXPECT_GT(weggelaten, 100);
  EXPECT_GT(av, 20);
  EXPECT_TRUE(soorten.contains(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM));
  EXPECT_TRUE(soorten.contains(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST));
  EXPECT_TRUE(soorten.contains(v1::SIGNAAL_SOORT_UIT_BEELD));
}

}  // namespace
}  // namespace inbeeld::signaling

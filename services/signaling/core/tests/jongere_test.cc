// Scenario tests of the per-jongere state machine (DOMAIN.md §6).
#include "inbeeld/signaling/core/jongere.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/signal_ids.h"
#include "services/signaling/core/tests/test_events.h"
#include "inbeeld/signaling/core/tijdlijn.h"

namespace inbeeld::signaling {
namespace {

using testing::Adres;
using testing::Inschrijving;
using testing::Melding;
using testing::Persoon;
using testing::Uitschrijving;
using testing::Vrijstelling;

constexpr char kPseudo[] = "pseudo";

absl::CivilDay D(const std::string& s) { return *util::ParseDate(s); }

// Replays like `inbeeld replay`: day by day, all of a day's events, then
// AdvanceTo(that day); finally AdvanceTo(until).
std::vector<v1::Signaal> Speel(std::vector<v1::Event> events, const std::string& until,
                             const CoreConfig& config = CoreConfig()) {
  std::stable_sort(events.begin(), events.end(),
                   [](const v1::Event& a, const v1::Event& b) { return *DatumVan(a) < *DatumVan(b); });
  Jongere j;
  std::vector<v1::Signaal> out;
  auto add = [&](std::vector<v1::Signaal> s) { out.insert(out.end(), s.begin(), s.end()); };
  for (size_t i = 0; i < events.size(); ++i) {
    add(j.Apply(events[i], kPseudo, config));
    if (i + 1 == events.size() || *DatumVan(events[i + 1]) != *DatumVan(events[i])) {
      add(j.AdvanceTo(*DatumVan(events[i]), kPseudo, config));
    }
  }
  add(j.AdvanceTo(D(until), kPseudo, config));
  std::sort(out.begin(), out.end(), [](const v1::Signaal& a, const v1::Signaal& b) {
    return std::tie(a.peildatum(), a.signaal_id()) < std::tie(b.peildatum(), b.signaal_id());
  });
  return out;
}

// "SOORT@peildatum" summaries for readable expectations.
std::vector<std::string> Kort(const std::vector<v1::Signaal>& s) {
  std::vector<std::string> out;
  for (const v1::Signaal& x : s) {
    std::string naam = v1::SignaalSoort_Name(x.soort()).substr(std::string("SIGNAAL_SOORT_").size());
    out.push_back(naam + "@" + x.peildatum());
  }
  // By peildatum, then kind (ids are not readable in expectations).
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(a.substr(a.find('@')), a) < std::make_pair(b.substr(b.find('@')), b);
  });
  return out;
}

const v1::Signaal* Zoek(const std::vector<v1::Signaal>& s, v1::SignaalSoort soort) {
  for (const v1::Signaal& x : s) {
    if (x.soort() == soort) return &x;
  }
  return nullptr;
}

using V = std::vector<std::string>;
const Persoon kP;  // born 2010-03-15, woongemeente 0363: leerplichtig in 2024

struct Scenario {
  std::string naam;
  Persoon persoon;
  std::vector<v1::Event> events;
  std::string until;
  V verwacht;
};

class ScenarioTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(ScenarioTest, Signals) {
  const Scenario& s = GetParam();
  EXPECT_EQ(Kort(Speel(s.events, s.until)), s.verwacht);
}

// Batching: all events at once and one AdvanceTo gives the same signals.
TEST_P(ScenarioTest, BatchingIndependent) {
  const Scenario& s = GetParam();
  const std::vector<v1::Signaal> dagelijks = Speel(s.events, s.until);
  Jongere j;
  std::vector<v1::Signaal> batch;
  std::vector<v1::Event> ev = s.events;
  std::mt19937 rng(42);
  std::shuffle(ev.begin(), ev.end(), rng);
  // Any order within a day; days in order (a later day's melding is emitted
  // on Apply, so cross-day arrival order is "late arrival", not batching).
  std::stable_sort(ev.begin(), ev.end(),
                   [](const v1::Event& a, const v1::Event& b) { return *DatumVan(a) < *DatumVan(b); });
  for (const v1::Event& e : ev) {
    for (auto& x : j.Apply(e, kPseudo, CoreConfig())) batch.push_back(x);
  }
  for (auto& x : j.AdvanceTo(D(s.until), kPseudo, CoreConfig())) batch.push_back(x);
  std::sort(batch.begin(), batch.end(), [](const v1::Signaal& a, const v1::Signaal& b) {
    return std::tie(a.peildatum(), a.signaal_id()) < std::tie(b.peildatum(), b.signaal_id());
  });
  ASSERT_EQ(batch.size(), dagelijks.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch[i].SerializeAsString(), dagelijks[i].SerializeAsString()) << i;
  }
}

// Live mode: a tick every day (most skipped via the wekker) gives exactly the
// same signals as the replay.
TEST_P(ScenarioTest, DailyTicksEqualReplay) {
  const Scenario& s = GetParam();
  const std::vector<v1::Signaal> ref = Speel(s.events, s.until);
  std::vector<v1::Event> ev = s.events;
  std::stable_sort(ev.begin(), ev.end(),
                   [](const v1::Event& a, const v1::Event& b) { return *DatumVan(a) < *DatumVan(b); });
  Jongere j;
  std::vector<v1::Signaal> out;
  size_t i = 0;
  for (absl::CivilDay d = *DatumVan(ev.front()); d <= D(s.until); ++d) {
    for (; i < ev.size() && *DatumVan(ev[i]) == d; ++i) {
      for (auto& x : j.Apply(ev[i], kPseudo, CoreConfig())) out.push_back(x);
    }
    for (auto& x : j.AdvanceTo(d, kPseudo, CoreConfig())) out.push_back(x);
    // The wekker never lies: nothing may be pending before it.
    Jongere kopie = Jongere::FromState(j.ToState());
    const auto wakeup = kopie.NextWakeup(CoreConfig());
    if (wakeup) {
      EXPECT_GT(*wakeup, d);
    }
  }
  EXPECT_EQ(Kort(out), Kort(ref));
}

// The day-jumping evaluation equals evaluating every single day.
TEST_P(ScenarioTest, JumpingEqualsEveryDay) {
  const Scenario& s = GetParam();
  google::protobuf::RepeatedPtrField<v1::Event> ev;
  for (const v1::Event& e : s.events) *ev.Add() = e;
  const Feiten f = ParseFeiten(ev);
  const Tijdlijn t(f, kPseudo, CoreConfig());
  const TijdlijnResultaat a = t.Bereken(D(s.until), false);
  const TijdlijnResultaat b = t.Bereken(D(s.until), true);
  ASSERT_EQ(a.signalen.size(), b.signalen.size());
  for (size_t i = 0; i < a.signalen.size(); ++i) {
    EXPECT_EQ(a.signalen[i].SerializeAsString(), b.signalen[i].SerializeAsString());
  }
}

Persoon Geb(const std::string& g) { return Persoon{testing::kBsn, g, "0363"}; }

INSTANTIATE_TEST_SUITE_P(
    Signalen, ScenarioTest,
    ::testing::Values(
        Scenario{"uit_en_inschrijving_binnen_grace", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Inschrijving(kP, "i1", "2024-03-05", v1::ONDERWIJSSOORT_VO, "07NU")},
                 "2024-12-31", V{}},
        Scenario{"uit_en_inschrijving_zelfde_dag", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Inschrijving(kP, "i1", "2024-03-02", v1::ONDERWIJSSOORT_VO, "07NU")},
                 "2024-12-31", V{}},
        // S = 2024-03-02; AV on S+7; no news for 90 days after S: UIT_BEELD;
        // still open at the end of S+91: LANGDURIG.
        Scenario{"uitschrijving_zonder_inschrijving", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01")},
                 "2024-12-31",
                 V{"ABSOLUUT_VERZUIM@2024-03-09", "UIT_BEELD@2024-05-31", "ABSOLUUT_VERZUIM_LANGDURIG@2024-06-01"}},
        // Grace boundary: an inschrijving on S+7 itself still prevents it? No:
        // the condition held S..S+6 only, so nothing.
        Scenario{"inschrijving_op_laatste_grace_dag", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Inschrijving(kP, "i1", "2024-03-09", v1::ONDERWIJSSOORT_VO, "07NU")},
                 "2024-12-31", V{}},
        Scenario{"inschrijving_na_signaal", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Inschrijving(kP, "i1", "2024-03-10", v1::ONDERWIJSSOORT_VO, "07NU")},
                 "2024-12-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "ABSOLUUT_VERZUIM_OPGELOST@2024-03-10"}},
        Scenario{"vertrek_buitenland_met_emigratie", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"),
                  Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND),
                  Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2024-03-25")},
                 "2024-12-31", V{}},
        // No emigratie within 30 days: UIT_BEELD + AV on S+30.
        Scenario{"vertrek_buitenland_zonder_emigratie", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"),
                  Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND)},
                 "2024-06-30", V{"ABSOLUUT_VERZUIM@2024-04-01", "UIT_BEELD@2024-04-01", "ABSOLUUT_VERZUIM_LANGDURIG@2024-06-01"}},
        // A Dutch verhuizing in the wait: the 7-day grace runs from the move.
        Scenario{"vertrek_buitenland_verhuizing", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"),
                  Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND),
                  Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-03-10", "0363")},
                 "2024-04-30", V{"ABSOLUUT_VERZUIM@2024-03-17"}},
        Scenario{"vow_twaalfjarige", Geb("2012-01-20"),
                 {Inschrijving(Geb("2012-01-20"), "i0", "2022-08-01"),
                  Adres(Geb("2012-01-20"), "a1", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, "2024-04-02")},
                 "2024-06-30", V{"UIT_BEELD@2024-04-02"}},
        Scenario{"vow_negentienjarige", Geb("2005-01-20"),
                 {Adres(Geb("2005-01-20"), "a1", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, "2024-04-02")},
                 "2024-12-31", V{}},
        // VOW ends residence: no AV after the uitschrijving; a Dutch address
        // brings the jongere back in beeld and the AV rules resume.
        Scenario{"vow_dan_verhuizing", Geb("2012-01-20"),
                 {Uitschrijving(Geb("2012-01-20"), "u1", "2024-04-01"),
                  Adres(Geb("2012-01-20"), "a1", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, "2024-04-02"),
                  Adres(Geb("2012-01-20"), "a2", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-05-01",
                        "0599")},
                 "2024-05-31", V{"UIT_BEELD@2024-04-02", "OVERDRACHT@2024-05-01", "WEER_IN_BEELD@2024-05-01",
                                 "ABSOLUUT_VERZUIM@2024-05-08"}},
        Scenario{"verblijft_niet_op_adres", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"),
                  Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERBLIJFT_NIET_OP_ADRES, "2024-04-02", "0363")},
                 "2024-06-30", V{"UIT_BEELD@2024-04-02"}},
        // Turning 5 (leerplicht from 2024-07-01) without enrolment.
        Scenario{"vijf_zonder_inschrijving", Geb("2019-06-10"),
                 {Adres(Geb("2019-06-10"), "g1", v1::ADRES_MUTATIE_SOORT_GEBOORTE, "2019-06-10", "0363")},
                 "2024-08-31", V{"ABSOLUUT_VERZUIM@2024-07-08"}},
        Scenario{"vijf_met_inschrijving", Geb("2019-06-10"),
                 {Adres(Geb("2019-06-10"), "g1", v1::ADRES_MUTATIE_SOORT_GEBOORTE, "2019-06-10", "0363"),
                  Inschrijving(Geb("2019-06-10"), "i1", "2023-06-10", v1::ONDERWIJSSOORT_PO)},
                 "2024-08-31", V{}},
        // 18th birthday resolves the open case (and ends uit beeld silently).
        Scenario{"achttien_lost_op", Geb("2006-05-20"),
                 {Inschrijving(Geb("2006-05-20"), "i0", "2022-08-01", v1::ONDERWIJSSOORT_MBO),
                  Uitschrijving(Geb("2006-05-20"), "u1", "2024-01-31", v1::UITSCHRIJFREDEN_VERWIJDERING,
                                v1::ONDERWIJSSOORT_MBO)},
                 "2024-12-31",
                 V{"ABSOLUUT_VERZUIM@2024-02-08", "UIT_BEELD@2024-05-01", "ABSOLUUT_VERZUIM_LANGDURIG@2024-05-02",
                   "ABSOLUUT_VERZUIM_OPGELOST@2024-05-20"}},
        Scenario{"verhuizing_met_open_zaak", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-04-01", "0599")},
                 "2024-12-31",
                 V{"ABSOLUUT_VERZUIM@2024-03-09", "OVERDRACHT@2024-04-01", "ABSOLUUT_VERZUIM_LANGDURIG@2024-06-01",
                   "UIT_BEELD@2024-06-30"}},
        // A move during a pending grace is not a case: no OVERDRACHT.
        Scenario{"verhuizing_tijdens_grace", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-03-04", "0599"),
                  // The new school knows the new address (a school event
                  // naming 0363 would move the woongemeente back: DOMAIN.md §6).
                  Inschrijving(Persoon{testing::kBsn, "2010-03-15", "0599"}, "i1", "2024-03-20")},
                 "2024-12-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "ABSOLUUT_VERZUIM_OPGELOST@2024-03-20"}},
        Scenario{"jji_zonder_inschrijving", kP,
                 {Inschrijving(kP, "i0", "2023-08-01", v1::ONDERWIJSSOORT_JJI),
                  Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_ONBEKEND, v1::ONDERWIJSSOORT_JJI)},
                 "2024-03-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "UIT_BEELD@2024-03-09"}},
        Scenario{"jji_met_inschrijving", kP,
                 {Inschrijving(kP, "i0", "2023-08-01", v1::ONDERWIJSSOORT_JJI),
                  Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_ONBEKEND, v1::ONDERWIJSSOORT_JJI),
                  Inschrijving(kP, "i1", "2024-03-04")},
                 "2024-03-31", V{}},
        Scenario{"vrijstelling_voorkomt_en_eindigt", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Vrijstelling(kP, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-03-02", "2024-06-30")},
                 "2024-07-31", V{"VRIJSTELLING_LOOPT_AF@2024-05-06", "ABSOLUUT_VERZUIM@2024-07-08"}},
        Scenario{"vrijstelling_lost_op", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Vrijstelling(kP, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-04-01")},
                 "2024-07-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "ABSOLUUT_VERZUIM_OPGELOST@2024-04-01"}},
        // Art. 15 has no effect during volledige leerplicht.
        Scenario{"art15_tijdens_leerplicht", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Vrijstelling(kP, "v1", v1::VRIJSTELLING_ARTIKEL_15, "2024-03-02")},
                 "2024-03-31", V{"ABSOLUUT_VERZUIM@2024-03-09"}},
        Scenario{"overlijden", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_OVERLIJDEN, "2024-03-20"),
                  Melding(kP, "m1", v1::VERZUIM_SOORT_OVERIG, "2024-03-25", "2024-03-01")},
                 "2024-12-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "ABSOLUUT_VERZUIM_OPGELOST@2024-03-20"}},
        Scenario{"emigratie_lost_op", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                  Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2024-03-20")},
                 "2024-12-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "ABSOLUUT_VERZUIM_OPGELOST@2024-03-20"}},
        Scenario{"lrv_melding", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"),
                  Melding(kP, "m1", v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM, "2024-03-10", "2024-02-01")},
                 "2024-03-31", V{"LANGDURIG_RELATIEF_VERZUIM@2024-03-10", "VERZUIMMELDING@2024-03-10"}},
        // 16-uur meldingen 02-01..02-14 and 02-15..03-05 chain (34 days):
        // LRV on max(2024-03-06, 2024-02-29) = the completing meldingsdatum.
        Scenario{"lrv_keten", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"),
                  Melding(kP, "m1", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-02-15", "2024-02-01", "2024-02-14"),
                  Melding(kP, "m2", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-03-06", "2024-02-15", "2024-03-05")},
                 "2024-03-31",
                 V{"VERZUIMMELDING@2024-02-15", "LANGDURIG_RELATIEF_VERZUIM@2024-03-06", "VERZUIMMELDING@2024-03-06"}},
        // A gap of one day breaks the chain.
        Scenario{"lrv_keten_gat", kP,
                 {Inschrijving(kP, "i0", "2022-08-01"),
                  Melding(kP, "m1", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-02-15", "2024-02-01", "2024-02-14"),
                  Melding(kP, "m2", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-03-06", "2024-02-16", "2024-03-05")},
                 "2024-03-31", V{"VERZUIMMELDING@2024-02-15", "VERZUIMMELDING@2024-03-06"}}),
    [](const auto& info) { return info.param.naam; });

// Ids must not change between versions: a signal repeated after an upgrade is
// recognised by its id (routing's dedupe, delivery's repeat window).
TEST(SignaalIdTest, IsTheFirst32HexCharactersOfSha256OfItsParts) {
  EXPECT_EQ(SignaalId("pseudo", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "2024-09-01", "2024-09-05"),
            "5e1d0205da4554b97132a4c94c3ab3fd");  // python3 hashlib.sha256(b"pseudo|SIGNAAL_SOORT_ABSOLUUT_VERZUIM|2024-09-01|2024-09-05")
  EXPECT_EQ(SignaalId("pseudo", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST, "abc", ""), "bf74af46a2adfbc77b399ae042275a65");
}

TEST(JongereTest, VerzuimmeldingEmittedOnApplyWithStatus) {
  Jongere j;
  Persoon p = Geb("2005-01-20");  // 19 on the meldingsdatum
  std::vector<v1::Signaal> s =
      j.Apply(Melding(p, "m1", v1::VERZUIM_SOORT_18_PLUS, "2024-03-10", "2024-02-01"), kPseudo, CoreConfig());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].soort(), v1::SIGNAAL_SOORT_VERZUIMMELDING);
  EXPECT_EQ(s[0].peildatum(), "2024-03-10");
  EXPECT_EQ(s[0].plichtstatus(), v1::PLICHTSTATUS_NIET_PLICHTIG);
  EXPECT_TRUE(s[0].achttien_plus());
  EXPECT_EQ(s[0].melding().melding_id(), "m1");
  EXPECT_EQ(s[0].melding().soort(), "VERZUIM_SOORT_18_PLUS");
  EXPECT_EQ(s[0].woongemeente(), "0363");
  EXPECT_EQ(s[0].oorzaak_event_ids(0), "05KO/m1");
  EXPECT_EQ(s[0].signaal_id().size(), 32u);
}

TEST(JongereTest, AbsoluutVerzuimContents) {
  const auto s = Speel({Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                      Inschrijving(kP, "i1", "2024-04-15")},
                     "2024-04-30");
  const v1::Signaal* av = Zoek(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
  ASSERT_NE(av, nullptr);
  EXPECT_EQ(av->begindatum(), "2024-03-02");
  EXPECT_EQ(av->regel(), "absoluut_verzuim.grace_verlopen");
  EXPECT_EQ(av->plichtstatus(), v1::PLICHTSTATUS_LEERPLICHTIG);
  EXPECT_EQ(av->woongemeente(), "0363");
  EXPECT_EQ(av->geboortedatum(), "2010-03-15");
  EXPECT_EQ(av->jongere().bsn(), testing::kBsn);
  EXPECT_EQ(av->pseudoniem(), kPseudo);
  EXPECT_FALSE(av->achttien_plus());
  EXPECT_TRUE(av->organisatie().empty());
  ASSERT_EQ(av->oorzaak_event_ids_size(), 1);
  EXPECT_EQ(av->oorzaak_event_ids(0), "05KO/u1");
  const v1::Signaal* op = Zoek(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST);
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->peildatum(), "2024-04-15");
  EXPECT_EQ(op->begindatum(), "2024-03-02");
  EXPECT_EQ(op->reden(), v1::OPLOS_REDEN_INSCHRIJVING);
  EXPECT_EQ(op->duur_dagen(), 44u);
}

TEST(JongereTest, EighteenthBirthdayResolvesWithDuration) {
  Persoon p = Geb("2006-05-20");
  const auto s = Speel({Inschrijving(p, "i0", "2022-08-01", v1::ONDERWIJSSOORT_MBO),
                      Uitschrijving(p, "u1", "2024-01-31", v1::UITSCHRIJFREDEN_VERWIJDERING, v1::ONDERWIJSSOORT_MBO)},
                     "2024-12-31");
  const v1::Signaal* op = Zoek(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST);
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->reden(), v1::OPLOS_REDEN_NIET_MEER_PLICHTIG);
  EXPECT_EQ(op->duur_dagen(), 109u);  // 2024-02-01 .. 2024-05-20
  EXPECT_TRUE(op->achttien_plus());
  const v1::Signaal* av = Zoek(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
  EXPECT_EQ(av->plichtstatus(), v1::PLICHTSTATUS_KWALIFICATIEPLICHTIG);
  EXPECT_EQ(av->artikel(), "Leerplichtwet 1969 art. 4a, 4b");
}

TEST(JongereTest, OverdrachtCarriesBothGemeenten) {
  const auto s = Speel({Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                      Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-04-01", "0599")},
                     "2024-04-30");
  const v1::Signaal* o = Zoek(s, v1::SIGNAAL_SOORT_OVERDRACHT);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->woongemeente(), "0599");
  EXPECT_EQ(o->vorige_woongemeente(), "0363");
  EXPECT_EQ(o->peildatum(), "2024-04-01");
}

TEST(JongereTest, LateInschrijvingInsideGraceCancels) {
  Jongere j;
  CoreConfig c;
  j.Apply(Inschrijving(kP, "i0", "2022-08-01"), kPseudo, c);
  j.Apply(Uitschrijving(kP, "u1", "2024-03-01"), kPseudo, c);
  EXPECT_TRUE(j.AdvanceTo(D("2024-03-05"), kPseudo, c).empty());
  EXPECT_EQ(j.NextWakeup(c), D("2024-03-09"));
  EXPECT_TRUE(j.Apply(Inschrijving(kP, "i1", "2024-03-04", v1::ONDERWIJSSOORT_VO, "07NU"), kPseudo, c).empty());
  EXPECT_TRUE(j.AdvanceTo(D("2024-04-30"), kPseudo, c).empty());
  EXPECT_FALSE(j.HasOpenAbsoluutVerzuim());
}

TEST(JongereTest, LateInschrijvingAfterSignalResolvesWithDuration) {
  Jongere j;
  CoreConfig c;
  j.Apply(Inschrijving(kP, "i0", "2022-08-01"), kPseudo, c);
  j.Apply(Uitschrijving(kP, "u1", "2024-03-01"), kPseudo, c);
  auto s = j.AdvanceTo(D("2024-03-20"), kPseudo, c);
  ASSERT_EQ(Kort(s), V{"ABSOLUUT_VERZUIM@2024-03-09"});
  EXPECT_TRUE(j.HasOpenAbsoluutVerzuim());
  s = j.Apply(Inschrijving(kP, "i1", "2024-03-15", v1::ONDERWIJSSOORT_VO, "07NU"), kPseudo, c);
  ASSERT_EQ(Kort(s), V{"ABSOLUUT_VERZUIM_OPGELOST@2024-03-15"});
  EXPECT_EQ(s[0].duur_dagen(), 13u);
  EXPECT_EQ(s[0].reden(), v1::OPLOS_REDEN_INSCHRIJVING);
  EXPECT_FALSE(j.HasOpenAbsoluutVerzuim());
}

TEST(JongereTest, LateEventRemovingCaseEntirelyResolvesOnItsDate) {
  Jongere j;
  CoreConfig c;
  j.Apply(Inschrijving(kP, "i0", "2022-08-01"), kPseudo, c);
  j.Apply(Uitschrijving(kP, "u1", "2024-03-01"), kPseudo, c);
  ASSERT_EQ(j.AdvanceTo(D("2024-03-20"), kPseudo, c).size(), 1u);
  // An inschrijving dated inside the grace removes the case retroactively.
  auto s = j.Apply(Inschrijving(kP, "i1", "2024-03-03", v1::ONDERWIJSSOORT_VO, "07NU"), kPseudo, c);
  ASSERT_EQ(Kort(s), V{"ABSOLUUT_VERZUIM_OPGELOST@2024-03-03"});
  EXPECT_EQ(s[0].begindatum(), "2024-03-02");
  EXPECT_EQ(s[0].duur_dagen(), 1u);
  // Never a second OPGELOST for the same case.
  EXPECT_TRUE(j.Apply(Vrijstelling(kP, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-03-02"), kPseudo, c).empty());
}

TEST(JongereTest, DuplicateEventsChangeNothing) {
  Jongere j;
  CoreConfig c;
  const v1::Event m = Melding(kP, "m1", v1::VERZUIM_SOORT_OVERIG, "2024-03-10", "2024-03-01");
  EXPECT_EQ(j.Apply(m, kPseudo, c).size(), 1u);
  const std::string voor = j.ToState().SerializeAsString();
  EXPECT_TRUE(j.Apply(m, kPseudo, c).empty());
  EXPECT_EQ(j.ToState().SerializeAsString(), voor);
  // Same (bron, id), other content: still the same event.
  v1::Event anders = m;
  anders.mutable_verzuimmelding()->set_verzuim_uren(99);
  EXPECT_TRUE(j.Apply(anders, kPseudo, c).empty());
  EXPECT_EQ(j.EventCount(), 1u);
}

TEST(JongereTest, StateRoundTripContinuesIdentically) {
  CoreConfig c;
  Jongere a;
  a.Apply(Inschrijving(kP, "i0", "2022-08-01"), kPseudo, c);
  a.Apply(Uitschrijving(kP, "u1", "2024-03-01"), kPseudo, c);
  a.AdvanceTo(D("2024-03-05"), kPseudo, c);
  Jongere b = Jongere::FromState(a.ToState());
  const auto sa = a.AdvanceTo(D("2024-12-31"), kPseudo, c);
  const auto sb = b.AdvanceTo(D("2024-12-31"), kPseudo, c);
  ASSERT_EQ(Kort(sa), Kort(sb));
  EXPECT_EQ(Kort(sa), (V{"ABSOLUUT_VERZUIM@2024-03-09", "UIT_BEELD@2024-05-31", "ABSOLUUT_VERZUIM_LANGDURIG@2024-06-01"}));
  EXPECT_TRUE(b.IsUitBeeld());
  // Re-applying a known event after restore: nothing.
  EXPECT_TRUE(b.Apply(Uitschrijving(kP, "u1", "2024-03-01"), kPseudo, c).empty());
}

TEST(JongereTest, TheRecordedWakeUpIndexDayIsKeptAndChangesNoSignal) {
  // The service records its wake-up index entry in the state; the core keeps
  // it as it is and computes the same signals with or without it.
  const Persoon p;
  const CoreConfig config;
  const std::vector<v1::Event> ev = {Inschrijving(p, "i1", "2024-08-20"), Uitschrijving(p, "u1", "2024-10-01")};
  Jongere zonder, met;
  EXPECT_FALSE(met.WekkerInIndex().has_value());
  met.SetWekkerInIndex(std::nullopt);
  ASSERT_TRUE(met.WekkerInIndex().has_value());
  EXPECT_FALSE(met.WekkerInIndex()->has_value());  // recorded: no entry
  met.SetWekkerInIndex(absl::CivilDay(2024, 9, 30));
  std::vector<std::string> a, b;
  for (const v1::Event& e : ev) {
    for (const auto& s : zonder.Apply(e, "p", config)) a.push_back(s.SerializeAsString());
    for (const auto& s : met.Apply(e, "p", config)) b.push_back(s.SerializeAsString());
  }
  for (const auto& s : zonder.AdvanceTo(absl::CivilDay(2025, 3, 1), "p", config)) a.push_back(s.SerializeAsString());
  for (const auto& s : met.AdvanceTo(absl::CivilDay(2025, 3, 1), "p", config)) b.push_back(s.SerializeAsString());
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_EQ(Jongere::FromState(met.ToState()).WekkerInIndex(),
            std::optional<std::optional<absl::CivilDay>>(absl::CivilDay(2024, 9, 30)));
  internal::v1::JongereState geen_dag = met.ToState();
  geen_dag.set_wekker_in_index("morgen");  // not a day: as not recorded
  EXPECT_FALSE(Jongere::FromState(geen_dag).WekkerInIndex().has_value());
}

TEST(JongereTest, ConfigurableGrace) {
  CoreConfig c;
  c.grace_days = 3;
  const auto s = Speel({Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01")}, "2024-03-31", c);
  EXPECT_EQ(Kort(s), V{"ABSOLUUT_VERZUIM@2024-03-05"});
}

TEST(JongereTest, NoSignalBeforeKnown) {
  // Leerplichtig and unenrolled long before the first event: S = first event.
  const auto s = Speel({Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_IMMIGRATIE, "2024-03-01", "0363")}, "2024-03-31");
  EXPECT_EQ(Kort(s), V{"ABSOLUUT_VERZUIM@2024-03-08"});
  EXPECT_EQ(s[0].begindatum(), "2024-03-01");
}

TEST(JongereTest, StatusAnswer) {
  Jongere j;
  CoreConfig c;
  j.Apply(Inschrijving(kP, "i0", "2022-08-01"), kPseudo, c);
  j.Apply(Uitschrijving(kP, "u1", "2024-03-01"), kPseudo, c);
  StatusAnswer a = j.Status(D("2024-03-20"));
  EXPECT_EQ(a.status, v1::PLICHTSTATUS_LEERPLICHTIG);
  EXPECT_EQ(a.regel, "leerplicht.art3_lid1");
  EXPECT_EQ(a.artikel, "Leerplichtwet 1969 art. 3 lid 1");
  EXPECT_FALSE(a.ingeschreven);
  EXPECT_TRUE(a.absoluut_verzuim);
  EXPECT_FALSE(a.uit_beeld);
  const v1::StatusResponse r = a.ToProto();
  EXPECT_EQ(r.leerplicht_van(), "2015-04-01");
  EXPECT_EQ(r.leerplicht_tot(), "2026-07-31");
  EXPECT_EQ(r.kwalificatieplicht_van(), "2026-08-01");
  EXPECT_EQ(r.kwalificatieplicht_tot(), "2028-03-14");
  EXPECT_TRUE(j.Status(D("2024-02-01")).ingeschreven);
  EXPECT_FALSE(j.Status(D("2024-02-01")).absoluut_verzuim);
}

// Property: arrival order within a day and batching never change the signals.
TEST(JongereTest, PropertyArrivalOrderAndBatchingIndependence) {
  const std::vector<v1::Event> events = {
      Inschrijving(kP, "i0", "2022-08-01"),
      Uitschrijving(kP, "u1", "2024-03-01"),
      Melding(kP, "m1", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-03-01", "2024-02-01", "2024-02-28"),
      Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-04-01", "0599"),
      Adres(kP, "a2", v1::ADRES_MUTATIE_SOORT_VERBLIJFT_NIET_OP_ADRES, "2024-04-01", "0599"),
      Inschrijving(kP, "i1", "2024-05-01", v1::ONDERWIJSSOORT_VO, "07NU"),
      Uitschrijving(kP, "u2", "2024-06-01", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND, v1::ONDERWIJSSOORT_VO, v1::DIPLOMA_UNSPECIFIED, "07NU"),
      Melding(kP, "m2", v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM, "2024-05-20", "2024-05-01"),
  };
  const auto ref = Speel(events, "2024-12-31");
  ASSERT_FALSE(ref.empty());
  std::mt19937 rng(7);
  for (int iter = 0; iter < 25; ++iter) {
    std::vector<v1::Event> ev = events;
    std::shuffle(ev.begin(), ev.end(), rng);
    // Random batching: apply in date order but advance only at random points.
    std::stable_sort(ev.begin(), ev.end(),
                     [](const v1::Event& a, const v1::Event& b) { return *DatumVan(a) < *DatumVan(b); });
    Jongere j;
    std::vector<v1::Signaal> out;
    for (size_t i = 0; i < ev.size(); ++i) {
      for (auto& s : j.Apply(ev[i], kPseudo, CoreConfig())) out.push_back(s);
      const bool laatste_van_dag = i + 1 == ev.size() || *DatumVan(ev[i + 1]) != *DatumVan(ev[i]);
      if (laatste_van_dag && rng() % 2 == 0) {
        for (auto& s : j.AdvanceTo(*DatumVan(ev[i]), kPseudo, CoreConfig())) out.push_back(s);
      }
    }
    for (auto& s : j.AdvanceTo(D("2024-12-31"), kPseudo, CoreConfig())) out.push_back(s);
    std::sort(out.begin(), out.end(), [](const v1::Signaal& a, const v1::Signaal& b) {
      return std::tie(a.peildatum(), a.signaal_id()) < std::tie(b.peildatum(), b.signaal_id());
    });
    ASSERT_EQ(Kort(out), Kort(ref)) << iter;
    for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].signaal_id(), ref[i].signaal_id());
  }
}

}  // namespace
}  // namespace inbeeld::signaling

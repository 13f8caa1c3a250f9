// Table tests of the two escalation signals of DOMAIN.md §6 on their boundary
// dates: ABSOLUUT_VERZUIM_LANGDURIG (S + 91) and VRIJSTELLING_LOOPT_AF
// ((tot + 1) - 56, not before van).
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"
#include "inbeeld/signaling/core/signal_ids.h"
#include "services/signaling/core/tests/test_events.h"

namespace inbeeld::signaling {
namespace {

using testing::Adres;
using testing::Inschrijving;
using testing::Persoon;
using testing::Uitschrijving;
using testing::Vrijstelling;

constexpr char kPseudo[] = "pseudo";

absl::CivilDay D(const std::string& s) { return *util::ParseDate(s); }

using testing::SpeelAlsReplay;

std::vector<std::string> Kort(const std::vector<v1::Signaal>& s) {
  std::vector<std::string> out;
  for (const v1::Signaal& x : s) {
    if (x.soort() == v1::SIGNAAL_SOORT_VERZUIMMELDING) continue;
    out.push_back(v1::SignaalSoort_Name(x.soort()).substr(std::string("SIGNAAL_SOORT_").size()) + "@" +
                  x.peildatum());
  }
  return out;
}

std::vector<v1::Signaal> VanSoort(const std::vector<v1::Signaal>& s, v1::SignaalSoort soort) {
  std::vector<v1::Signaal> out;
  for (const v1::Signaal& x : s) {
    if (x.soort() == soort) out.push_back(x);
  }
  return out;
}

using V = std::vector<std::string>;
Persoon Geb(const std::string& g, const std::string& gemeente = "0363") {
  return Persoon{testing::kBsn, g, gemeente};
}
const Persoon kP;  // born 2010-03-15: volledig leerplichtig throughout 2024

struct Geval {
  std::string naam;
  std::vector<v1::Event> events;
  std::string until;
  V verwacht;
};

class EscalatieTest : public ::testing::TestWithParam<Geval> {};

TEST_P(EscalatieTest, Signalen) {
  EXPECT_EQ(Kort(SpeelAlsReplay(GetParam().events, GetParam().until)), GetParam().verwacht);
}

// A daily tick gives exactly the same signals as jumping between event days.
TEST_P(EscalatieTest, DagelijksGelijkAanSprongen) {
  EXPECT_EQ(Kort(SpeelAlsReplay(GetParam().events, GetParam().until, true)), GetParam().verwacht);
}

// Uitschrijving 2024-03-01: S = 2024-03-02, AV on S + 7 = 03-09, UIT_BEELD
// (no news) on S + 90 = 05-31, LANGDURIG on S + 91 = 06-01.
const std::vector<v1::Event> kAv = {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01")};
std::vector<v1::Event> Plus(std::vector<v1::Event> a, std::vector<v1::Event> b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Vrijstelling 5 onder a 2024-03-02 .. 2024-06-30: tot + 1 = 07-01, the
// signal on 07-01 - 56 = 05-06.
const std::vector<v1::Event> kVr = {
    Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
    Vrijstelling(kP, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-03-02", "2024-06-30")};

// Kwalificatieplichtig jongeren (volledige leerplicht ended 2022-07-31) with
// the same vrijstelling; 18 on 2024-07-01 (= tot + 1) or on 2024-07-02.
std::vector<v1::Event> Kwal(const Persoon& p) {
  return {Inschrijving(p, "i0", "2022-08-01", v1::ONDERWIJSSOORT_MBO),
          Uitschrijving(p, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERWIJDERING, v1::ONDERWIJSSOORT_MBO),
          Vrijstelling(p, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-03-02", "2024-06-30")};
}

INSTANTIATE_TEST_SUITE_P(
    Grenzen, EscalatieTest,
    ::testing::Values(
        // --- ABSOLUUT_VERZUIM_LANGDURIG ---
        Geval{"langdurig_dag_ervoor", kAv, "2024-05-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "UIT_BEELD@2024-05-31"}},
        Geval{"langdurig_op_de_dag", kAv, "2024-06-01",
              V{"ABSOLUUT_VERZUIM@2024-03-09", "UIT_BEELD@2024-05-31", "ABSOLUUT_VERZUIM_LANGDURIG@2024-06-01"}},
        // Once per case: nothing more however long it stays open.
        Geval{"langdurig_eenmaal", kAv, "2024-12-31",
              V{"ABSOLUUT_VERZUIM@2024-03-09", "UIT_BEELD@2024-05-31", "ABSOLUUT_VERZUIM_LANGDURIG@2024-06-01"}},
        // Closed on S + 91 itself: not open at the end of that day.
        Geval{"langdurig_gesloten_op_de_dag", Plus(kAv, {Inschrijving(kP, "i1", "2024-06-01", v1::ONDERWIJSSOORT_VO, "07NU")}),
              "2024-12-31",
              V{"ABSOLUUT_VERZUIM@2024-03-09", "UIT_BEELD@2024-05-31", "ABSOLUUT_VERZUIM_OPGELOST@2024-06-01",
                "WEER_IN_BEELD@2024-06-01"}},
        Geval{"langdurig_gesloten_dag_erna", Plus(kAv, {Inschrijving(kP, "i1", "2024-06-02", v1::ONDERWIJSSOORT_VO, "07NU")}),
              "2024-12-31",
              V{"ABSOLUUT_VERZUIM@2024-03-09", "UIT_BEELD@2024-05-31", "ABSOLUUT_VERZUIM_LANGDURIG@2024-06-01",
                "ABSOLUUT_VERZUIM_OPGELOST@2024-06-02", "WEER_IN_BEELD@2024-06-02"}},
        // A second case gets its own LANGDURIG, counted from its own S.
        Geval{"langdurig_tweede_zaak",
              Plus(kAv, {Inschrijving(kP, "i1", "2024-04-01", v1::ONDERWIJSSOORT_VO, "07NU"),
                         Uitschrijving(kP, "u2", "2024-04-30", v1::UITSCHRIJFREDEN_VERWIJDERING, v1::ONDERWIJSSOORT_VO,
                                       v1::DIPLOMA_UNSPECIFIED, "07NU")}),
              "2024-08-31",
              V{"ABSOLUUT_VERZUIM@2024-03-09", "ABSOLUUT_VERZUIM_OPGELOST@2024-04-01", "ABSOLUUT_VERZUIM@2024-05-08",
                "UIT_BEELD@2024-07-30", "ABSOLUUT_VERZUIM_LANGDURIG@2024-07-31"}},
        // 18 before S + 91: the case is resolved, no LANGDURIG.
        Geval{"langdurig_achttien_eerder",
              {Inschrijving(Geb("2006-05-20"), "i0", "2022-08-01", v1::ONDERWIJSSOORT_MBO),
               Uitschrijving(Geb("2006-05-20"), "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERWIJDERING,
                             v1::ONDERWIJSSOORT_MBO)},
              "2024-12-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "ABSOLUUT_VERZUIM_OPGELOST@2024-05-20"}},

        // --- VRIJSTELLING_LOOPT_AF ---
        Geval{"looptaf_dag_ervoor", kVr, "2024-05-05", V{}},
        Geval{"looptaf_op_de_dag", kVr, "2024-05-06", V{"VRIJSTELLING_LOOPT_AF@2024-05-06"}},
        // Then the vrijstelling ends with nothing: AV after the grace.
        Geval{"looptaf_daarna_absoluut_verzuim", kVr, "2024-07-31",
              V{"VRIJSTELLING_LOOPT_AF@2024-05-06", "ABSOLUUT_VERZUIM@2024-07-08"}},
        // Shorter than 8 weeks (2024-03-02 .. 04-15): on its own van.
        Geval{"looptaf_korter_dan_8_weken",
              {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
               Vrijstelling(kP, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-03-02", "2024-04-15")},
              "2024-04-30", V{"VRIJSTELLING_LOOPT_AF@2024-03-02", "ABSOLUUT_VERZUIM@2024-04-23"}},
        // Exactly 56 days (03-02 .. 04-26): tot + 1 - 56 = van.
        Geval{"looptaf_precies_8_weken",
              {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
               Vrijstelling(kP, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-03-02", "2024-04-26")},
              "2024-04-30", V{"VRIJSTELLING_LOOPT_AF@2024-03-02"}},
        // An inschrijving starting on tot + 1 (known in advance): nothing to signal.
        Geval{"looptaf_inschrijving_op_tot_plus_1", Plus(kVr, {Inschrijving(kP, "i1", "2024-07-01", v1::ONDERWIJSSOORT_VO, "07NU")}),
              "2024-07-31", V{}},
        // ... starting one day later does not count.
        Geval{"looptaf_inschrijving_dag_later", Plus(kVr, {Inschrijving(kP, "i1", "2024-07-02", v1::ONDERWIJSSOORT_VO, "07NU")}),
              "2024-07-31", V{"VRIJSTELLING_LOOPT_AF@2024-05-06"}},
        // Turning 18 on tot + 1: not plichtig then.
        Geval{"looptaf_achttien_op_tot_plus_1", Kwal(Geb("2006-07-01")), "2024-07-31", V{}},
        // Turning 18 the day after tot + 1: still kwalificatieplichtig on tot + 1.
        Geval{"looptaf_achttien_dag_later", Kwal(Geb("2006-07-02")), "2024-07-31",
              V{"VRIJSTELLING_LOOPT_AF@2024-05-06"}},
        // A second vrijstelling covering tot + 1: no signal for the first; the
        // second (to 2024-12-31) gets its own on 2025-01-01 - 56 = 2024-11-06.
        Geval{"looptaf_tweede_vrijstelling",
              Plus(kVr, {Vrijstelling(kP, "v2", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-07-01", "2024-12-31")}),
              "2024-11-30", V{"VRIJSTELLING_LOOPT_AF@2024-11-06"}},
        Geval{"looptaf_tweede_vrijstelling_dag_ervoor",
              Plus(kVr, {Vrijstelling(kP, "v2", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-07-01", "2024-12-31")}),
              "2024-11-05", V{}},
        // A second vrijstelling starting a day too late does not cover tot + 1.
        Geval{"looptaf_tweede_vrijstelling_met_gat",
              Plus(kVr, {Vrijstelling(kP, "v2", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-07-02")}),
              "2024-07-31", V{"VRIJSTELLING_LOOPT_AF@2024-05-06"}},
        // Art. 15 has no effect during volledige leerplicht: it covers nothing.
        Geval{"looptaf_art15_dekt_niet_tijdens_leerplicht",
              Plus(kVr, {Vrijstelling(kP, "v2", v1::VRIJSTELLING_ARTIKEL_15, "2024-07-01")}), "2024-05-31",
              V{"VRIJSTELLING_LOOPT_AF@2024-05-06"}},
        // Open-ended: never.
        Geval{"looptaf_zonder_einde",
              {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
               Vrijstelling(kP, "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-03-02")},
              "2025-12-31", V{}},
        // Not resident at the end of the day (emigrated): nothing.
        Geval{"looptaf_geemigreerd", Plus(kVr, {Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2024-04-10")}),
              "2024-07-31", V{}},
        // Emigrated after the signal day: the signal stands.
        Geval{"looptaf_emigratie_later", Plus(kVr, {Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2024-05-07")}),
              "2024-07-31", V{"VRIJSTELLING_LOOPT_AF@2024-05-06"}}),
    [](const auto& info) { return info.param.naam; });

TEST(LangdurigTest, Inhoud) {
  const std::vector<v1::Signaal> s = SpeelAlsReplay(kAv, "2024-06-30");
  const std::vector<v1::Signaal> av = VanSoort(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
  const std::vector<v1::Signaal> l = VanSoort(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_LANGDURIG);
  ASSERT_EQ(av.size(), 1u);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].begindatum(), "2024-03-02");
  EXPECT_EQ(l[0].duur_dagen(), 91u);
  EXPECT_EQ(l[0].regel(), "absoluut_verzuim.langdurig");
  EXPECT_EQ(l[0].artikel(), "Leerplichtwet 1969 art. 2 lid 1, 3 lid 1");
  EXPECT_EQ(l[0].woongemeente(), "0363");
  EXPECT_EQ(l[0].plichtstatus(), v1::PLICHTSTATUS_LEERPLICHTIG);
  EXPECT_EQ(std::vector<std::string>(l[0].oorzaak_event_ids().begin(), l[0].oorzaak_event_ids().end()),
            std::vector<std::string>(av[0].oorzaak_event_ids().begin(), av[0].oorzaak_event_ids().end()));
  // Deterministic, once per case: derived from the case's own id.
  EXPECT_EQ(l[0].signaal_id(), SignaalId(kPseudo, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_LANGDURIG, av[0].signaal_id(), ""));
  EXPECT_EQ(l[0].signaal_id().size(), 32u);
}

TEST(LangdurigTest, NaVerhuizingBijDeNieuweGemeente) {
  const std::vector<v1::Signaal> s =
      SpeelAlsReplay(Plus(kAv, {Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-04-01", "0599")}),
            "2024-06-30");
  const std::vector<v1::Signaal> l = VanSoort(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_LANGDURIG);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].peildatum(), "2024-06-01");
  EXPECT_EQ(l[0].woongemeente(), "0599");
}

TEST(VrijstellingLooptAfTest, Inhoud) {
  const std::vector<v1::Signaal> s = VanSoort(SpeelAlsReplay(kVr, "2024-06-30"), v1::SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].peildatum(), "2024-05-06");
  EXPECT_EQ(s[0].begindatum(), "2024-03-02");
  EXPECT_EQ(s[0].einddatum(), "2024-06-30");
  EXPECT_EQ(s[0].regel(), "vrijstelling.loopt_af");
  EXPECT_EQ(s[0].plichtstatus(), v1::PLICHTSTATUS_VRIJGESTELD);
  EXPECT_EQ(s[0].woongemeente(), "0363");
  ASSERT_EQ(s[0].oorzaak_event_ids_size(), 1);
  EXPECT_EQ(s[0].oorzaak_event_ids(0), "0363/v1");
  EXPECT_EQ(s[0].signaal_id(), SignaalId(kPseudo, v1::SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF, "0363/v1", ""));
}

// The same facts in any arrival order and batching give the same ids.
TEST(VrijstellingLooptAfTest, VolgordeOnafhankelijk) {
  std::vector<v1::Event> omgekeerd(kVr.rbegin(), kVr.rend());
  const CoreConfig config;
  Jongere j;
  std::vector<v1::Signaal> alles;
  for (const v1::Event& e : omgekeerd) {
    for (v1::Signaal& s : j.Apply(e, kPseudo, config)) alles.push_back(s);
  }
  for (v1::Signaal& s : j.AdvanceTo(D("2024-06-30"), kPseudo, config)) alles.push_back(s);
  const auto a = VanSoort(alles, v1::SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF);
  const auto b = VanSoort(SpeelAlsReplay(kVr, "2024-06-30"), v1::SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].signaal_id(), b[0].signaal_id());
}

}  // namespace
}  // namespace inbeeld::signaling

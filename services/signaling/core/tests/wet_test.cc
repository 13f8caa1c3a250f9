// Review tests: scenarios derived from the Leerplichtwet 1969 and the
// conventions of DOMAIN.md §6 that pin down discrepancies found in review.
// Each case names the rule it checks.
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/inschrijving.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"
#include "services/signaling/core/tests/test_events.h"

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

using testing::SpeelAlsReplay;

std::vector<std::string> Kort(const std::vector<v1::Signaal>& s) {
  std::vector<std::string> out;
  for (const v1::Signaal& x : s) {
    out.push_back(v1::SignaalSoort_Name(x.soort()).substr(std::string("SIGNAAL_SOORT_").size()) + "@" +
                  x.peildatum());
  }
  return out;
}

using V = std::vector<std::string>;
Persoon Geb(const std::string& g) { return Persoon{testing::kBsn, g, "0363"}; }
const Persoon kP;  // born 2010-03-15: leerplichtig in 2024

struct WetCase {
  std::string naam;
  std::vector<v1::Event> events;
  std::string until;
  V verwacht;
};

class WetScenarioTest : public ::testing::TestWithParam<WetCase> {};

TEST_P(WetScenarioTest, Signals) {
  const WetCase& c = GetParam();
  EXPECT_EQ(Kort(SpeelAlsReplay(c.events, c.until)), c.verwacht);
}

INSTANTIATE_TEST_SUITE_P(
    Review, WetScenarioTest,
    ::testing::Values(
        // DOMAIN.md §6: an uitschrijving and an inschrijving on one date never
        // produce a signal, also when the uitschrijving is the first fact about
        // the old enrolment (unknown start). Failed before the review: the
        // uitschrijving closed the new enrolment of that same day.
        WetCase{"zelfde_dag_uit_en_inschrijving_andere_school",
                {Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL),
                 Inschrijving(kP, "i1", "2024-03-01", v1::ONDERWIJSSOORT_VO, "07NU")},
                "2024-12-31", V{}},
        // At ONE school a same-date in- and uitschrijving is a one-day
        // enrolment (issue 8; the same-date rule is for a switch between two
        // schools): S = 2024-03-02, ABSOLUUT_VERZUIM on S + 7, UIT_BEELD after
        // 90 days without news.
        WetCase{"zelfde_dag_uit_en_inschrijving_zelfde_brin",
                {Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL),
                 Inschrijving(kP, "i1", "2024-03-01", v1::ONDERWIJSSOORT_MBO)},
                "2024-12-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "UIT_BEELD@2024-05-31",
                                 "ABSOLUUT_VERZUIM_LANGDURIG@2024-06-01"}},
        WetCase{"zelfde_dag_uit_en_inschrijving_met_vorige_inschrijving",
                {Inschrijving(kP, "i0", "2022-08-01"),
                 Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL),
                 Inschrijving(kP, "i1", "2024-03-01", v1::ONDERWIJSSOORT_VO, "07NU")},
                "2024-12-31", V{}},
        WetCase{"uitschrijving_31_juli_inschrijving_1_augustus",
                {Uitschrijving(kP, "u1", "2024-07-31", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL),
                 Inschrijving(kP, "i1", "2024-08-01", v1::ONDERWIJSSOORT_VO, "07NU")},
                "2024-12-31", V{}},
        // LRV closes with an einddatum on an LRV melding; a later LRV melding
        // opens a new one (one signal per open LRV).
        WetCase{"lrv_einddatum_sluit_nieuwe_lrv_melding_opent",
                {Inschrijving(kP, "i0", "2022-08-01"),
                 Melding(kP, "m1", v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM, "2024-03-10", "2024-02-01"),
                 Melding(kP, "m2", v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM, "2024-03-20", "2024-02-01",
                         "2024-03-18"),
                 Melding(kP, "m3", v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM, "2024-05-10", "2024-04-01")},
                "2024-05-31",
                V{"VERZUIMMELDING@2024-03-10", "LANGDURIG_RELATIEF_VERZUIM@2024-03-10", "VERZUIMMELDING@2024-03-20",
                  "VERZUIMMELDING@2024-05-10", "LANGDURIG_RELATIEF_VERZUIM@2024-05-10"}},
        // A second LRV melding while the LRV is open: no second signal.
        WetCase{"lrv_open_geen_tweede_signaal",
                {Inschrijving(kP, "i0", "2022-08-01"),
                 Melding(kP, "m1", v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM, "2024-03-10", "2024-02-01"),
                 Melding(kP, "m2", v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM, "2024-04-10", "2024-02-01")},
                "2024-04-30",
                V{"VERZUIMMELDING@2024-03-10", "LANGDURIG_RELATIEF_VERZUIM@2024-03-10", "VERZUIMMELDING@2024-04-10"}},
        // The end of the enrolment closes the LRV; after re-enrolment a new LRV
        // melding opens a new one. A move while the LRV is open: OVERDRACHT.
        WetCase{"lrv_sluit_bij_einde_inschrijving",
                {Inschrijving(kP, "i0", "2022-08-01"),
                 Melding(kP, "m1", v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM, "2024-03-10", "2024-02-01"),
                 Uitschrijving(kP, "u1", "2024-03-31", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL),
                 Inschrijving(kP, "i1", "2024-04-01", v1::ONDERWIJSSOORT_VO, "07NU"),
                 Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-04-15", "0599"),
                 Melding(kP, "m2", v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM, "2024-05-10", "2024-04-02")},
                "2024-05-31",
                V{"VERZUIMMELDING@2024-03-10", "LANGDURIG_RELATIEF_VERZUIM@2024-03-10",
                  "VERZUIMMELDING@2024-05-10", "LANGDURIG_RELATIEF_VERZUIM@2024-05-10"}},
        // 16-uur meldingen covering exactly 28 days: not "more than 4 weeks".
        WetCase{"lrv_keten_precies_28_dagen",
                {Inschrijving(kP, "i0", "2022-08-01"),
                 Melding(kP, "m1", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-03-15", "2024-03-01", "2024-03-14"),
                 Melding(kP, "m2", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-03-29", "2024-03-15", "2024-03-28")},
                "2024-04-30", V{"VERZUIMMELDING@2024-03-15", "VERZUIMMELDING@2024-03-29"}},
        // 90 days without news count from max(S, latest event): 04-15 + 90.
        WetCase{"geen_nieuws_90_dagen_herstart_door_event",
                {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                 Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-04-15", "0363")},
                "2024-12-31", V{"ABSOLUUT_VERZUIM@2024-03-09", "ABSOLUUT_VERZUIM_LANGDURIG@2024-06-01", "UIT_BEELD@2024-07-14"}},
        WetCase{"vow_tijdens_grace_geen_nieuw_absoluut_verzuim",
                {Inschrijving(kP, "i0", "2022-08-01"), Uitschrijving(kP, "u1", "2024-03-01"),
                 Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, "2024-03-05")},
                "2024-12-31", V{"UIT_BEELD@2024-03-05"}},
        WetCase{"emigratie_op_dag_30_van_wacht",
                {Inschrijving(kP, "i0", "2022-08-01"),
                 Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND),
                 Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2024-04-01")},
                "2024-12-31", V{}},
        WetCase{"vow_kwalificatieplichtige_uit_beeld_eindigt_stil_op_18",
                {Inschrijving(Geb("2006-05-20"), "i0", "2022-08-01", v1::ONDERWIJSSOORT_MBO),
                 Adres(Geb("2006-05-20"), "a1", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, "2024-03-05")},
                "2024-12-31", V{"UIT_BEELD@2024-03-05"}},
        WetCase{"immigratie_na_emigratie_nieuwe_grace",
                {Inschrijving(kP, "i0", "2022-08-01"),
                 Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND),
                 Adres(kP, "a1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2024-03-10"),
                 Adres(kP, "a2", v1::ADRES_MUTATIE_SOORT_IMMIGRATIE, "2024-06-10", "0599")},
                "2024-07-31", V{"ABSOLUUT_VERZUIM@2024-06-17"}}),
    [](const auto& info) { return info.param.naam; });

// The same-date rule is for a switch between two schools (art. 10): the
// uitschrijving at 05KO does not close that day's inschrijving at 07NU.
TEST(WetEnrolmentTest, SameDateUitschrijvingDoesNotCloseThatDaysInschrijving) {
  google::protobuf::RepeatedPtrField<v1::Event> ev;
  *ev.Add() = Inschrijving(kP, "i1", "2024-03-01", v1::ONDERWIJSSOORT_MBO, "07NU");
  *ev.Add() = Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL);
  const Feiten f = ParseFeiten(ev);
  const std::vector<signaling::Inschrijving> i = BouwInschrijvingen(f.mutaties);
  ASSERT_EQ(i.size(), 2u);
  EXPECT_TRUE(IngeschrevenOp(i, D("2024-02-01")));  // the old one, start unknown
  EXPECT_TRUE(IngeschrevenOp(i, D("2024-03-02")));  // the new one stays open
}

// At one school the same date is a one-day enrolment (issue 8): enrolled on
// 2024-03-01 only, not before and not after.
TEST(WetEnrolmentTest, SameDateAtOneSchoolIsAOneDayEnrolment) {
  google::protobuf::RepeatedPtrField<v1::Event> ev;
  *ev.Add() = Inschrijving(kP, "i1", "2024-03-01", v1::ONDERWIJSSOORT_VO, "05KO");
  *ev.Add() = Uitschrijving(kP, "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND);
  const Feiten f = ParseFeiten(ev);
  const std::vector<signaling::Inschrijving> i = BouwInschrijvingen(f.mutaties);
  ASSERT_EQ(i.size(), 1u);
  EXPECT_FALSE(IngeschrevenOp(i, D("2024-02-29")));
  EXPECT_TRUE(IngeschrevenOp(i, D("2024-03-01")));
  EXPECT_FALSE(IngeschrevenOp(i, D("2024-03-02")));
}

// Relatief verzuim presupposes an enrolment: a school's melding about a
// jongere the mutaties know nothing of does not make him absoluut verzuimer.
TEST(WetEnrolmentTest, MeldingImpliesEnrolmentAtTheReportingSchool) {
  const std::vector<v1::Event> alleen_melding = {
      Melding(kP, "m1", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-03-01", "2024-02-20", "2024-02-28")};
  EXPECT_EQ(Kort(SpeelAlsReplay(alleen_melding, "2024-12-31")), V{"VERZUIMMELDING@2024-03-01"});
  // The same school removes him later without a new school: absoluut verzuim
  // after the grace, counted from the day after the uitschrijving.
  std::vector<v1::Event> daarna_uit = alleen_melding;
  daarna_uit.push_back(Uitschrijving(kP, "u1", "2024-04-01"));
  EXPECT_EQ(Kort(SpeelAlsReplay(daarna_uit, "2024-04-30")), (V{"VERZUIMMELDING@2024-03-01", "ABSOLUUT_VERZUIM@2024-04-09"}));
}

// Art. 10: a school removes a pupil only after another school enrolled him.
// An uitschrijving at A with no known enrolment at A stands for an A enrolment
// of unknown start; it must not close the new enrolment at B.
TEST(WetEnrolmentTest, UitschrijvingElsewhereDoesNotCloseTheNewSchool) {
  google::protobuf::RepeatedPtrField<v1::Event> ev;
  *ev.Add() = Inschrijving(kP, "i1", "2024-03-01", v1::ONDERWIJSSOORT_VO, "12AB");
  *ev.Add() = Uitschrijving(kP, "u1", "2024-03-05", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL);  // at 05KO
  const Feiten f = ParseFeiten(ev);
  const std::vector<signaling::Inschrijving> i = BouwInschrijvingen(f.mutaties);
  ASSERT_EQ(i.size(), 2u);
  EXPECT_TRUE(IngeschrevenOp(i, D("2024-03-10")));  // still at 12AB
  EXPECT_TRUE(IngeschrevenOp(i, D("2024-02-01")));  // 05KO, start unknown
}

// Determinism: two events with the same (bron, id) but other content (a
// conflicting retry): whichever line comes first in the file, the same one
// wins. Before the review the sort kept input order for such ties.
TEST(WetDeterminismTest, ConflictingRetryWinsIndependentOfInputOrder) {
  const v1::Event a = Uitschrijving(kP, "x1", "2024-03-01");
  v1::Event b = a;
  b.mutable_inschrijvingsmutatie()->set_uitschrijfreden(v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND);
  const v1::Event i0 = Inschrijving(kP, "i0", "2022-08-01");
  const std::vector<v1::Signaal> ab = SpeelAlsReplay({i0, a, b}, "2024-06-30");
  const std::vector<v1::Signaal> ba = SpeelAlsReplay({i0, b, a}, "2024-06-30");
  ASSERT_EQ(Kort(ab), Kort(ba));
  EXPECT_TRUE(CanonicalLess(a, b) != CanonicalLess(b, a));
}

struct StatusCase {
  std::string naam;
  Persoon persoon;
  std::vector<v1::Event> events;
  std::string peildatum;
  v1::Plichtstatus status;
  std::string leerplicht_van, leerplicht_tot, kwal_van, kwal_tot;
};

class WetStatusTest : public ::testing::TestWithParam<StatusCase> {};

TEST_P(WetStatusTest, Status) {
  const StatusCase& c = GetParam();
  Jongere j;
  for (const v1::Event& e : c.events) j.Apply(e, kPseudo, CoreConfig());
  const v1::StatusResponse r = j.Status(D(c.peildatum)).ToProto();
  EXPECT_EQ(r.status(), c.status) << r.regel();
  EXPECT_EQ(r.leerplicht_van(), c.leerplicht_van);
  EXPECT_EQ(r.leerplicht_tot(), c.leerplicht_tot);
  EXPECT_EQ(r.kwalificatieplicht_van(), c.kwal_van);
  EXPECT_EQ(r.kwalificatieplicht_tot(), c.kwal_tot);
}

INSTANTIATE_TEST_SUITE_P(
    Review, WetStatusTest,
    ::testing::Values(
        StatusCase{"geboren_1e_van_maand", Geb("2019-03-01"),
                   {Adres(Geb("2019-03-01"), "g", v1::ADRES_MUTATIE_SOORT_GEBOORTE, "2019-03-01", "0363")},
                   "2024-03-31", v1::PLICHTSTATUS_NIET_PLICHTIG, "2024-04-01", "2035-07-31", "2035-08-01",
                   "2037-02-28"},
        StatusCase{"schrikkeldag_vijf", Geb("2020-02-29"),
                   {Adres(Geb("2020-02-29"), "g", v1::ADRES_MUTATIE_SOORT_GEBOORTE, "2020-02-29", "0363")},
                   "2025-04-01", v1::PLICHTSTATUS_LEERPLICHTIG, "2025-04-01", "2036-07-31", "2036-08-01",
                   "2038-02-28"},
        StatusCase{"achttiende_verjaardag_niet_plichtig", Geb("2006-05-20"),
                   {Inschrijving(Geb("2006-05-20"), "i", "2022-08-01", v1::ONDERWIJSSOORT_MBO)},
                   "2024-05-20", v1::PLICHTSTATUS_NIET_PLICHTIG, "2011-06-01", "2022-07-31", "2022-08-01",
                   "2024-05-19"},
        StatusCase{"dag_voor_achttien_kwalificatieplichtig", Geb("2006-05-20"),
                   {Inschrijving(Geb("2006-05-20"), "i", "2022-08-01", v1::ONDERWIJSSOORT_MBO)},
                   "2024-05-19", v1::PLICHTSTATUS_KWALIFICATIEPLICHTIG, "2011-06-01", "2022-07-31", "2022-08-01",
                   "2024-05-19"},
        StatusCase{"pro_getuigschrift_in_kwalificatieplicht", Geb("2007-03-10"),
                   {Uitschrijving(Geb("2007-03-10"), "u", "2024-06-30", v1::UITSCHRIJFREDEN_EINDE_PLICHT,
                                  v1::ONDERWIJSSOORT_PRO, v1::DIPLOMA_PRO_GETUIGSCHRIFT)},
                   "2024-07-01", v1::PLICHTSTATUS_NIET_PLICHTIG, "2012-04-01", "2023-07-31", "2023-08-01",
                   "2024-06-29"},
        StatusCase{"art15_tijdens_kwalificatieplicht", Geb("2007-03-10"),
                   {Vrijstelling(Geb("2007-03-10"), "v", v1::VRIJSTELLING_ARTIKEL_15, "2023-06-01")},
                   "2023-09-01", v1::PLICHTSTATUS_VRIJGESTELD, "2012-04-01", "2023-07-31", "2023-08-01",
                   "2025-03-09"}),
    [](const auto& info) { return info.param.naam; });

}  // namespace
}  // namespace inbeeld::signaling

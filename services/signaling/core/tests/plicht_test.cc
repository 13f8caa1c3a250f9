// Table tests of the obligation rules with exact dates (Leerplichtwet 1969
// art. 3, 4a, 5, 5a, 15; DOMAIN.md §1, §6).
#include "inbeeld/signaling/core/plicht.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/inschrijving.h"
#include "inbeeld/signaling/core/feiten.h"
#include "services/signaling/core/tests/test_events.h"

namespace inbeeld::signaling {
namespace {

using testing::Persoon;

absl::CivilDay D(const std::string& s) { return *util::ParseDate(s); }
std::string F(absl::CivilDay d) { return util::FormatDate(d); }

struct Situatie {
  google::protobuf::RepeatedPtrField<v1::Event> events;
  Feiten feiten;
  std::vector<Inschrijving> inschrijvingen;
  std::optional<Plicht> plicht;
};

std::unique_ptr<Situatie> Bouw(const std::string& geboortedatum, const std::vector<v1::Event>& events) {
  auto s = std::make_unique<Situatie>();
  for (const v1::Event& e : events) *s->events.Add() = e;
  s->feiten = ParseFeiten(s->events);
  s->inschrijvingen = BouwInschrijvingen(s->feiten.mutaties);
  s->plicht = Plicht::Bereken(D(geboortedatum), s->inschrijvingen, s->feiten);
  return s;
}

struct BeginCase {
  std::string naam, geboortedatum, leerplicht_van;
};

class LeerplichtBeginTest : public ::testing::TestWithParam<BeginCase> {};

TEST_P(LeerplichtBeginTest, FirstOfMonthAfterFifthBirthday) {
  EXPECT_EQ(F(LeerplichtBegin(D(GetParam().geboortedatum))), GetParam().leerplicht_van);
}

INSTANTIATE_TEST_SUITE_P(
    Art3Lid1, LeerplichtBeginTest,
    ::testing::Values(BeginCase{"eerste_van_maand", "2019-01-01", "2024-02-01"},
                      BeginCase{"laatste_van_maand", "2019-01-31", "2024-02-01"},
                      BeginCase{"laatste_dag_jaar", "2018-12-31", "2024-01-01"},
                      BeginCase{"schrikkeldag_niet_schrikkeljaar", "2016-02-29", "2021-04-01"},
                      BeginCase{"schrikkeldag_2012", "2012-02-29", "2017-04-01"},
                      BeginCase{"vijf_in_juli", "2019-07-15", "2024-08-01"},
                      BeginCase{"vijf_in_augustus", "2019-08-15", "2024-09-01"},
                      BeginCase{"vijf_op_31_juli", "2019-07-31", "2024-08-01"}),
    [](const auto& info) { return info.param.naam; });

TEST(VerjaardagTest, BornOn29FebruaryHasBirthdayOn1MarchInCommonYears) {
  EXPECT_EQ(F(Verjaardag(D("2008-02-29"), 18)), "2026-03-01");
  EXPECT_EQ(F(Verjaardag(D("2008-02-29"), 16)), "2024-02-29");
  EXPECT_EQ(Leeftijd(D("2008-02-29"), D("2026-02-28")), 17);
  EXPECT_EQ(Leeftijd(D("2008-02-29"), D("2026-03-01")), 18);
}

struct PlichtCase {
  std::string naam;
  std::string geboortedatum;
  std::vector<v1::Event> events;
  std::string leerplicht_tot;
  std::string kwal_van;  // "" = none
  std::string kwal_tot;
  // (day, expected status, expected regel prefix)
  std::vector<std::tuple<std::string, v1::Plichtstatus, std::string>> op;
};

class PlichtTest : public ::testing::TestWithParam<PlichtCase> {};

TEST_P(PlichtTest, Dates) {
  const PlichtCase& c = GetParam();
  auto s = Bouw(c.geboortedatum, c.events);
  EXPECT_EQ(F(s->plicht->leerplicht_tot()), c.leerplicht_tot);
  EXPECT_EQ(s->plicht->kwalificatieplicht_van() ? F(*s->plicht->kwalificatieplicht_van()) : "", c.kwal_van);
  EXPECT_EQ(s->plicht->kwalificatieplicht_tot() ? F(*s->plicht->kwalificatieplicht_tot()) : "", c.kwal_tot);
  for (const auto& [dag, status, regel] : c.op) {
    const PlichtOordeel o = s->plicht->Op(D(dag));
    EXPECT_EQ(o.status, status) << dag;
    EXPECT_EQ(o.regel.substr(0, regel.size()), regel) << dag << " " << o.regel;
    EXPECT_FALSE(o.artikel.empty()) << dag;
  }
}

Persoon P(const std::string& geb) { return Persoon{testing::kBsn, geb, "0363"}; }

using v1::PLICHTSTATUS_KWALIFICATIEPLICHTIG;
using v1::PLICHTSTATUS_LEERPLICHTIG;
using v1::PLICHTSTATUS_NIET_PLICHTIG;
using v1::PLICHTSTATUS_VRIJGESTELD;

INSTANTIATE_TEST_SUITE_P(
    Art3Art4a, PlichtTest,
    ::testing::Values(
        // 16 during the school year: the school year ends 31 July.
        PlichtCase{"zestien_in_maart", "2008-03-10", {}, "2024-07-31", "2024-08-01", "2026-03-09",
                   {{"2013-03-31", PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.voor_leerplicht"},
                    {"2013-04-01", PLICHTSTATUS_LEERPLICHTIG, "leerplicht.art3_lid1"},
                    {"2024-07-31", PLICHTSTATUS_LEERPLICHTIG, "leerplicht"},
                    {"2024-08-01", PLICHTSTATUS_KWALIFICATIEPLICHTIG, "kwalificatieplicht.art4a"},
                    {"2026-03-09", PLICHTSTATUS_KWALIFICATIEPLICHTIG, "kwalificatieplicht"},
                    {"2026-03-10", PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.achttien_jaar"}}},
        // 16 on 1 August: a new school year started that day.
        PlichtCase{"zestien_op_1_augustus", "2008-08-01", {}, "2025-07-31", "2025-08-01", "2026-07-31", {}},
        PlichtCase{"zestien_op_31_juli", "2008-07-31", {}, "2024-07-31", "2024-08-01", "2026-07-30", {}},
        // 18th birthday of someone born on 29 February (2026: 1 March).
        PlichtCase{"achttien_schrikkeldag", "2008-02-29", {}, "2024-07-31", "2024-08-01", "2026-02-28",
                   {{"2026-02-28", PLICHTSTATUS_KWALIFICATIEPLICHTIG, "kwalificatieplicht"},
                    {"2026-03-01", PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.achttien_jaar"}}},
        // Startkwalificatie during volledige leerplicht: leerplicht goes on,
        // kwalificatieplicht never starts.
        PlichtCase{"startkwalificatie_voor_16",
                   "2008-03-10",
                   {testing::Inschrijving(P("2008-03-10"), "i1", "2020-08-01"),
                    testing::Uitschrijving(P("2008-03-10"), "u1", "2024-07-15",
                                           v1::UITSCHRIJFREDEN_STARTKWALIFICATIE_BEHAALD,
                                           v1::ONDERWIJSSOORT_VO, v1::DIPLOMA_HAVO)},
                   "2024-07-31",
                   "",
                   "",
                   {{"2024-07-20", PLICHTSTATUS_LEERPLICHTIG, "leerplicht"},
                    {"2024-08-01", PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.startkwalificatie"}}},
        // Startkwalificatie after: plicht ends on the diploma date.
        PlichtCase{"startkwalificatie_na_16",
                   "2007-03-10",
                   {testing::Inschrijving(P("2007-03-10"), "i1", "2020-08-01", v1::ONDERWIJSSOORT_MBO),
                    testing::Uitschrijving(P("2007-03-10"), "u1", "2024-06-30",
                                           v1::UITSCHRIJFREDEN_STARTKWALIFICATIE_BEHAALD,
                                           v1::ONDERWIJSSOORT_MBO, v1::DIPLOMA_MBO_2)},
                   "2023-07-31",
                   "2023-08-01",
                   "2024-06-29",
                   {{"2024-06-29", PLICHTSTATUS_KWALIFICATIEPLICHTIG, "kwalificatieplicht"},
                    {"2024-06-30", PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.startkwalificatie"}}},
        // MBO 1 (entree) is not a startkwalificatie.
        PlichtCase{"mbo1_geen_startkwalificatie",
                   "2007-03-10",
                   {testing::Uitschrijving(P("2007-03-10"), "u1", "2024-06-30", v1::UITSCHRIJFREDEN_EINDE_PLICHT,
                                           v1::ONDERWIJSSOORT_MBO, v1::DIPLOMA_MBO_1)},
                   "2023-07-31",
                   "2023-08-01",
                   "2025-03-09",
                   {}},
        // Art. 4a lid 2: praktijkonderwijs getuigschrift after volledige
        // leerplicht ends the kwalificatieplicht from that date.
        PlichtCase{"pro_getuigschrift",
                   "2007-03-10",
                   {testing::Uitschrijving(P("2007-03-10"), "u1", "2024-06-30", v1::UITSCHRIJFREDEN_EINDE_PLICHT,
                                           v1::ONDERWIJSSOORT_PRO, v1::DIPLOMA_PRO_GETUIGSCHRIFT)},
                   "2023-07-31",
                   "2023-08-01",
                   "2024-06-29",
                   {{"2024-06-30", PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.art4a_lid2"}}},
        PlichtCase{"vso_getuigschrift_tijdens_leerplicht",
                   "2008-03-10",
                   {testing::Uitschrijving(P("2008-03-10"), "u1", "2024-06-30", v1::UITSCHRIJFREDEN_EINDE_PLICHT,
                                           v1::ONDERWIJSSOORT_VSO, v1::DIPLOMA_VSO)},
                   "2024-07-31",
                   "",
                   "",
                   {{"2024-08-01", PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.art4a_lid2"}}},
        // 12 full school years from age 4: born 1 August, enrolled from the
        // 4th birthday: the 12th year (2025/26) ends a year before the
        // 16-year rule (2027-07-31).
        PlichtCase{"twaalf_schooljaren_vanaf_vier",
                   "2010-08-01",
                   {testing::Inschrijving(P("2010-08-01"), "i1", "2014-08-01", v1::ONDERWIJSSOORT_PO),
                    testing::Uitschrijving(P("2010-08-01"), "u1", "2022-07-31", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL,
                                           v1::ONDERWIJSSOORT_PO),
                    testing::Inschrijving(P("2010-08-01"), "i2", "2022-08-01", v1::ONDERWIJSSOORT_VO, "07NU")},
                   "2026-07-31",
                   "2026-08-01",
                   "2028-07-31",
                   {{"2026-07-31", PLICHTSTATUS_LEERPLICHTIG, "leerplicht"},
                    {"2026-08-01", PLICHTSTATUS_KWALIFICATIEPLICHTIG, "kwalificatieplicht"}}},
        // One day missing in a school year: that year is not full.
        PlichtCase{"twaalf_schooljaren_gat",
                   "2010-08-01",
                   {testing::Inschrijving(P("2010-08-01"), "i1", "2014-08-01", v1::ONDERWIJSSOORT_PO),
                    testing::Uitschrijving(P("2010-08-01"), "u1", "2022-07-30", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL,
                                           v1::ONDERWIJSSOORT_PO),
                    testing::Inschrijving(P("2010-08-01"), "i2", "2022-08-01", v1::ONDERWIJSSOORT_VO, "07NU")},
                   "2027-07-31",
                   "2027-08-01",
                   "2028-07-31",
                   {}},
        // Art. 3 lid 2: basisschool in 6 school years (2014/15–2019/20)
        // followed by vo counts as 8 full years; 4 vo years make 12.
        PlichtCase{"art3_lid2",
                   "2010-10-10",
                   {testing::Inschrijving(P("2010-10-10"), "i1", "2014-10-10", v1::ONDERWIJSSOORT_PO),
                    testing::Uitschrijving(P("2010-10-10"), "u1", "2020-07-31", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL,
                                           v1::ONDERWIJSSOORT_PO),
                    testing::Inschrijving(P("2010-10-10"), "i2", "2020-08-01", v1::ONDERWIJSSOORT_VO, "07NU")},
                   "2024-07-31",
                   "2024-08-01",
                   "2028-10-09",
                   {{"2024-07-31", PLICHTSTATUS_LEERPLICHTIG, "leerplicht"},
                    {"2024-08-01", PLICHTSTATUS_KWALIFICATIEPLICHTIG, "kwalificatieplicht"}}},
        // Same, but the po start is unknown (only the uitschrijving is known):
        // lid 2 is not applied; the enrolment counts as since before age 4.
        PlichtCase{"art3_lid2_onbekende_start",
                   "2010-10-10",
                   {testing::Uitschrijving(P("2010-10-10"), "u1", "2020-07-31", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL,
                                           v1::ONDERWIJSSOORT_PO),
                    testing::Inschrijving(P("2010-10-10"), "i2", "2020-08-01", v1::ONDERWIJSSOORT_VO, "07NU")},
                   "2027-07-31",
                   "2027-08-01",
                   "2028-10-09",
                   {}},
        // Vrijstellingen: van first day, tot last day inclusive.
        PlichtCase{"vrijstelling_5a",
                   "2012-03-15",
                   {testing::Vrijstelling(P("2012-03-15"), "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-01-10",
                                          "2024-06-30")},
                   "2028-07-31",
                   "2028-08-01",
                   "2030-03-14",
                   {{"2024-01-09", PLICHTSTATUS_LEERPLICHTIG, "leerplicht"},
                    {"2024-01-10", PLICHTSTATUS_VRIJGESTELD, "vrijstelling.art5_onder_a"},
                    {"2024-06-30", PLICHTSTATUS_VRIJGESTELD, "vrijstelling.art5_onder_a"},
                    {"2024-07-01", PLICHTSTATUS_LEERPLICHTIG, "leerplicht"}}},
        PlichtCase{"vrijstelling_5b_open",
                   "2012-03-15",
                   {testing::Vrijstelling(P("2012-03-15"), "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_B, "2024-01-10")},
                   "2028-07-31",
                   "2028-08-01",
                   "2030-03-14",
                   {{"2029-01-01", PLICHTSTATUS_VRIJGESTELD, "vrijstelling.art5_onder_b"},
                    {"2030-03-15", PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.achttien"}}},
        PlichtCase{"vrijstelling_5c",
                   "2012-03-15",
                   {testing::Vrijstelling(P("2012-03-15"), "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_C, "2024-01-10",
                                          "2024-12-31")},
                   "2028-07-31", "2028-08-01", "2030-03-14",
                   {{"2024-12-31", PLICHTSTATUS_VRIJGESTELD, "vrijstelling.art5_onder_c"},
                    {"2025-01-01", PLICHTSTATUS_LEERPLICHTIG, "leerplicht"}}},
        PlichtCase{"vrijstelling_art5a_trekkend",
                   "2012-03-15",
                   {testing::Vrijstelling(P("2012-03-15"), "v1", v1::VRIJSTELLING_ARTIKEL_5A, "2024-01-10",
                                          "2024-12-31")},
                   "2028-07-31", "2028-08-01", "2030-03-14",
                   {{"2024-02-01", PLICHTSTATUS_VRIJGESTELD, "vrijstelling.art5a"}}},
        // Art. 15 exempts only from kwalificatieplicht.
        PlichtCase{"vrijstelling_art15",
                   "2008-03-10",
                   {testing::Vrijstelling(P("2008-03-10"), "v1", v1::VRIJSTELLING_ARTIKEL_15, "2024-06-01",
                                          "2025-05-31")},
                   "2024-07-31", "2024-08-01", "2026-03-09",
                   {{"2024-07-31", PLICHTSTATUS_LEERPLICHTIG, "leerplicht"},
                    {"2024-08-01", PLICHTSTATUS_VRIJGESTELD, "vrijstelling.art15"},
                    {"2025-05-31", PLICHTSTATUS_VRIJGESTELD, "vrijstelling.art15"},
                    {"2025-06-01", PLICHTSTATUS_KWALIFICATIEPLICHTIG, "kwalificatieplicht"}}},
        // Death ends everything.
        PlichtCase{"overleden",
                   "2012-03-15",
                   {testing::Adres(P("2012-03-15"), "a1", v1::ADRES_MUTATIE_SOORT_OVERLIJDEN, "2024-02-02")},
                   "2028-07-31", "2028-08-01", "2030-03-14",
                   {{"2024-02-01", PLICHTSTATUS_LEERPLICHTIG, "leerplicht"},
                    {"2024-02-02", PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.overleden"}}}),
    [](const auto& info) { return info.param.naam; });

TEST(EnrolmentTest, UitschrijvingClosesEarliestOpenAtSameBrinElseUnknownStart) {
  Persoon p;
  google::protobuf::RepeatedPtrField<v1::Event> ev;
  *ev.Add() = testing::Inschrijving(p, "i1", "2020-08-01", v1::ONDERWIJSSOORT_VO, "05KO");
  *ev.Add() = testing::Inschrijving(p, "i2", "2021-08-01", v1::ONDERWIJSSOORT_VO, "07NU");
  *ev.Add() = testing::Uitschrijving(p, "u1", "2022-07-31", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL,
                                     v1::ONDERWIJSSOORT_VO, v1::DIPLOMA_UNSPECIFIED, "07NU");
  *ev.Add() = testing::Uitschrijving(p, "u2", "2019-07-31", v1::UITSCHRIJFREDEN_ANDERE_SCHOOL,
                                     v1::ONDERWIJSSOORT_PO, v1::DIPLOMA_UNSPECIFIED, "99XX");
  const Feiten f = ParseFeiten(ev);
  const std::vector<Inschrijving> i = BouwInschrijvingen(f.mutaties);
  ASSERT_EQ(i.size(), 3u);
  EXPECT_FALSE(i[0].van.has_value());  // u2: unknown start
  EXPECT_EQ(F(*i[0].tot), "2019-07-31");
  EXPECT_EQ(i[1].brin, "05KO");
  EXPECT_FALSE(i[1].tot.has_value());  // still open
  EXPECT_EQ(i[2].brin, "07NU");
  EXPECT_EQ(F(*i[2].tot), "2022-07-31");
  EXPECT_TRUE(IngeschrevenOp(i, D("2019-01-01")));
  EXPECT_FALSE(IngeschrevenOp(i, D("2019-08-01")));
  EXPECT_TRUE(IngeschrevenOp(i, D("2022-08-01")));
}

TEST(EnrolmentTest, FutureInschrijvingNotActiveBeforeItsDate) {
  Persoon p;
  google::protobuf::RepeatedPtrField<v1::Event> ev;
  *ev.Add() = testing::Inschrijving(p, "i1", "2024-09-01");
  const Feiten f = ParseFeiten(ev);
  const auto i = BouwInschrijvingen(f.mutaties);
  EXPECT_FALSE(IngeschrevenOp(i, D("2024-08-31")));
  EXPECT_TRUE(IngeschrevenOp(i, D("2024-09-01")));
}

}  // namespace
}  // namespace inbeeld::signaling

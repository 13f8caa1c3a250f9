// Table tests of the routing inputs the core puts on signals (DOMAIN.md §6
// "Routing of signals"; issue 8): the woongemeente is the last one any event
// named (the granting gemeente of a vrijstelling included), 0998 and 1999
// never count, OVERDRACHT only between real gemeenten, closing signals carry
// the case they close; and the one-day enrolment (a same-date in- and
// uitschrijving at one school).
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"
#include "inbeeld/signaling/core/verblijf.h"
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

// "SOORT@peildatum@woongemeente" (OVERDRACHT: "@vorige>nieuwe").
std::vector<std::string> Kort(const std::vector<v1::Signaal>& s) {
  std::vector<std::string> out;
  for (const v1::Signaal& x : s) {
    std::string k = v1::SignaalSoort_Name(x.soort()).substr(std::string("SIGNAAL_SOORT_").size()) + "@" +
                    x.peildatum() + "@";
    if (x.soort() == v1::SIGNAAL_SOORT_OVERDRACHT) k += x.vorige_woongemeente() + ">";
    out.push_back(k + x.woongemeente());
  }
  return out;
}

// "woongemeente@peildatum" of each zaak route.
std::vector<std::string> Routes(const v1::Signaal& s) {
  std::vector<std::string> out;
  for (const v1::ZaakRoute& r : s.zaak_routes()) out.push_back(r.woongemeente() + "@" + r.peildatum());
  return out;
}

const v1::Signaal& Eerste(const std::vector<v1::Signaal>& s, v1::SignaalSoort soort) {
  static const v1::Signaal kGeen;
  for (const v1::Signaal& x : s) {
    if (x.soort() == soort) return x;
  }
  ADD_FAILURE() << "no " << v1::SignaalSoort_Name(soort);
  return kGeen;
}

using V = std::vector<std::string>;
// Born 2012-05-01: leerplichtig throughout 2025/26.
Persoon P(const std::string& gemeente) { return Persoon{testing::kBsn, "2012-05-01", gemeente}; }

struct RouteCase {
  std::string naam;
  std::vector<v1::Event> events;
  std::string until;
  V verwacht;
};

class ZaakRoutingTest : public ::testing::TestWithParam<RouteCase> {};

TEST_P(ZaakRoutingTest, Signals) {
  const RouteCase& c = GetParam();
  EXPECT_EQ(Kort(SpeelAlsReplay(c.events, c.until)), c.verwacht);
}

INSTANTIATE_TEST_SUITE_P(
    Issue8, ZaakRoutingTest,
    ::testing::Values(
        // Issue 8 example: vrijstelling art. 5 onder a granted by 0200 until
        // 2026-02-28, no school or BRP events. S = 2026-03-01: ABSOLUUT_VERZUIM
        // on S + 7, UIT_BEELD after 90 days without news (S + 90), both 0200.
        RouteCase{"vrijstelling_only_granting_gemeente",
                  {Vrijstelling(P("0200"), "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2025-09-01", "2026-02-28")},
                  "2026-07-31",
                  V{"VRIJSTELLING_LOOPT_AF@2026-01-04@0200", "ABSOLUUT_VERZUIM@2026-03-08@0200",
                    "UIT_BEELD@2026-05-30@0200", "ABSOLUUT_VERZUIM_LANGDURIG@2026-05-31@0200"}},
        // ... and a verhuizing to 0957 on 2026-05-02: OVERDRACHT 0200→0957;
        // the move is news, so UIT_BEELD counts 90 days from it.
        RouteCase{"vrijstelling_only_verhuizing_overdracht",
                  {Vrijstelling(P("0200"), "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2025-09-01", "2026-02-28"),
                   Adres(P("0200"), "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2026-05-02", "0957")},
                  "2026-08-31",
                  V{"VRIJSTELLING_LOOPT_AF@2026-01-04@0200", "ABSOLUUT_VERZUIM@2026-03-08@0200",
                    "OVERDRACHT@2026-05-02@0200>0957", "ABSOLUUT_VERZUIM_LANGDURIG@2026-05-31@0957",
                    "UIT_BEELD@2026-07-31@0957"}},
        // Vertrek buitenland without emigratie by S + 30 (S = 2024-03-02):
        // AV + UIT_BEELD on 2024-04-01 in 0363. The later BRP emigratie (0998)
        // closes the case in 0363: no OVERDRACHT to 0998.
        RouteCase{"emigratie_na_absoluut_verzuim_geen_overdracht",
                  {Inschrijving(P("0363"), "i0", "2022-08-01"),
                   Uitschrijving(P("0363"), "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND),
                   Adres(P("0363"), "e1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2024-05-15", "0998")},
                  "2024-07-31",
                  V{"ABSOLUUT_VERZUIM@2024-04-01@0363", "UIT_BEELD@2024-04-01@0363",
                    "ABSOLUUT_VERZUIM_OPGELOST@2024-05-15@0363"}},
        // VOW registered with 1999 (RNI): UIT_BEELD goes to the last Dutch
        // woongemeente; a later verhuizing to 0599 is an OVERDRACHT from it.
        RouteCase{"vow_1999_laatste_nederlandse_gemeente",
                  {Inschrijving(P("0599"), "i0", "2022-08-01"),
                   Uitschrijving(P("0599"), "u1", "2024-03-01"),
                   Adres(P("0599"), "a1", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, "2024-03-20", "1999"),
                   Adres(P("0599"), "a2", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-05-01", "0363")},
                  "2024-05-31",
                  V{"ABSOLUUT_VERZUIM@2024-03-09@0599", "UIT_BEELD@2024-03-20@0599",
                    "WEER_IN_BEELD@2024-05-01@0363", "OVERDRACHT@2024-05-01@0599>0363"}},
        // Issue 8 item 4: in- and uitschrijving at one BRIN on one date (reden
        // vertrek buitenland): enrolled exactly 2025-10-06, S = 2025-10-07,
        // UIT_BEELD + ABSOLUUT_VERZUIM on S + 30.
        RouteCase{"eendaagse_inschrijving_vertrek_buitenland",
                  {Inschrijving(P("0363"), "i0", "2025-10-06"),
                   Uitschrijving(P("0363"), "u1", "2025-10-06", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND)},
                  "2026-01-31",
                  V{"ABSOLUUT_VERZUIM@2025-11-06@0363", "UIT_BEELD@2025-11-06@0363",
                    "ABSOLUUT_VERZUIM_LANGDURIG@2026-01-06@0363"}},
        // ... a BRP emigratie on S + 30 closes the matter without a signal.
        RouteCase{"eendaagse_inschrijving_emigratie_op_tijd",
                  {Inschrijving(P("0363"), "i0", "2025-10-06"),
                   Uitschrijving(P("0363"), "u1", "2025-10-06", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND),
                   Adres(P("0363"), "e1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2025-11-06", "0998")},
                  "2026-01-31", V{}},
        // The same-date rule is for a switch between two schools (art. 10):
        // out of 05KO and into 07NU on 2025-10-06 gives nothing.
        RouteCase{"schoolwissel_zelfde_dag",
                  {Inschrijving(P("0363"), "i0", "2025-08-01"),
                   Inschrijving(P("0363"), "i1", "2025-10-06", v1::ONDERWIJSSOORT_VO, "07NU"),
                   Uitschrijving(P("0363"), "u1", "2025-10-06")},
                  "2026-01-31", V{}},
        // A re-enrolment at the same school on the uitschrijving's date stays
        // open: the uitschrijving ends the earlier enrolment.
        RouteCase{"herinschrijving_zelfde_school_zelfde_dag",
                  {Inschrijving(P("0363"), "i0", "2025-08-01"),
                   Inschrijving(P("0363"), "i1", "2025-10-06", v1::ONDERWIJSSOORT_MBO),
                   Uitschrijving(P("0363"), "u1", "2025-10-06")},
                  "2026-01-31", V{}}),
    [](const auto& info) { return info.param.naam; });

// A closing signal carries the case it closes: the opening signal's id and
// how every signal of the case was routed (opening, OVERDRACHT new and old).
TEST(ZaakRoutingTest, OpgelostNaOverdrachtDraagtDeZaak) {
  const std::vector<v1::Signaal> s =
      SpeelAlsReplay({Vrijstelling(P("0200"), "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2025-09-01", "2026-02-28"),
             Adres(P("0200"), "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2026-05-02", "0957"),
             Inschrijving(P("0957"), "i1", "2026-06-01")},
            "2026-07-31");
  // VRIJSTELLING_LOOPT_AF on (tot + 1) - 56 and ABSOLUUT_VERZUIM_LANGDURIG on
  // S + 91 (S = 2026-03-01) come with it (DOMAIN.md §6).
  EXPECT_EQ(Kort(s), (V{"VRIJSTELLING_LOOPT_AF@2026-01-04@0200", "ABSOLUUT_VERZUIM@2026-03-08@0200",
                        "OVERDRACHT@2026-05-02@0200>0957", "ABSOLUUT_VERZUIM_LANGDURIG@2026-05-31@0957",
                        "ABSOLUUT_VERZUIM_OPGELOST@2026-06-01@0957"}));
  const v1::Signaal& av = Eerste(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
  const v1::Signaal& opgelost = Eerste(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST);
  EXPECT_EQ(opgelost.zaak_signaal_id(), av.signaal_id());
  EXPECT_EQ(Routes(opgelost), (V{"0200@2026-03-08", "0957@2026-05-02", "0200@2026-05-02"}));
  // LANGDURIG continues the case: it reaches both organisations too.
  const v1::Signaal& langdurig = Eerste(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_LANGDURIG);
  EXPECT_EQ(langdurig.zaak_signaal_id(), av.signaal_id());
  EXPECT_EQ(Routes(langdurig), (V{"0200@2026-03-08", "0957@2026-05-02", "0200@2026-05-02"}));
  // Opening signals and OVERDRACHT carry no case.
  EXPECT_TRUE(av.zaak_signaal_id().empty());
  EXPECT_EQ(av.zaak_routes_size(), 0);
  EXPECT_EQ(Eerste(s, v1::SIGNAAL_SOORT_OVERDRACHT).zaak_routes_size(), 0);
}

TEST(ZaakRoutingTest, OpgelostNaEmigratieDraagtDeNederlandseZaak) {
  const std::vector<v1::Signaal> s =
      SpeelAlsReplay({Inschrijving(P("0363"), "i0", "2022-08-01"),
             Uitschrijving(P("0363"), "u1", "2024-03-01", v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND),
             Adres(P("0363"), "e1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2024-05-15", "0998")},
            "2024-07-31");
  const v1::Signaal& opgelost = Eerste(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST);
  EXPECT_EQ(opgelost.reden(), v1::OPLOS_REDEN_EMIGRATIE);
  EXPECT_EQ(Routes(opgelost), V{"0363@2024-04-01"});
  EXPECT_EQ(opgelost.zaak_signaal_id(), Eerste(s, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM).signaal_id());
}

TEST(ZaakRoutingTest, WeerInBeeldDraagtDeUitBeeldZaak) {
  const std::vector<v1::Signaal> s =
      SpeelAlsReplay({Inschrijving(P("0599"), "i0", "2022-08-01"), Uitschrijving(P("0599"), "u1", "2024-03-01"),
             Adres(P("0599"), "a1", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, "2024-03-20", "1999"),
             Adres(P("0599"), "a2", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2024-05-01", "0363")},
            "2024-05-31");
  const v1::Signaal& wib = Eerste(s, v1::SIGNAAL_SOORT_WEER_IN_BEELD);
  EXPECT_EQ(wib.zaak_signaal_id(), Eerste(s, v1::SIGNAAL_SOORT_UIT_BEELD).signaal_id());
  EXPECT_EQ(Routes(wib), (V{"0599@2024-03-20", "0363@2024-05-01", "0599@2024-05-01"}));
}

// A late event that removes an emitted case entirely: its OPGELOST still
// carries the routes the case had (kept in the state).
TEST(ZaakRoutingTest, LaatFeitOpgelostHoudtDeRoutes) {
  Jongere j;
  CoreConfig c;
  const Persoon p = P("0363");
  j.Apply(Inschrijving(p, "i0", "2022-08-01"), kPseudo, c);
  j.Apply(Uitschrijving(p, "u1", "2024-03-01"), kPseudo, c);
  std::vector<v1::Signaal> av = j.AdvanceTo(D("2024-03-20"), kPseudo, c);
  ASSERT_EQ(Kort(av), V{"ABSOLUUT_VERZUIM@2024-03-09@0363"});
  // The school corrects: the jongere was at 07NU from 2024-03-02 on.
  std::vector<v1::Signaal> s =
      j.Apply(Inschrijving(p, "i1", "2024-03-02", v1::ONDERWIJSSOORT_VO, "07NU"), kPseudo, c);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].soort(), v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST);
  EXPECT_EQ(s[0].zaak_signaal_id(), av[0].signaal_id());
  EXPECT_EQ(Routes(s[0]), V{"0363@2024-03-09"});
}

// The woongemeente is the last one any event named; on one date the BRP
// outranks a vrijstelling, which outranks a school; 0998/1999 never count;
// before the first naming event, the first one named; 0000 only without any.
TEST(ZaakRoutingTest, WoongemeenteIsDeLaatstGenoemde) {
  google::protobuf::RepeatedPtrField<v1::Event> ev;
  *ev.Add() = Adres(P("0363"), "a0", v1::ADRES_MUTATIE_SOORT_OVERLIJDEN, "2025-01-01");  // names none
  *ev.Add() = Inschrijving(P("0363"), "i0", "2025-08-01");
  *ev.Add() = Adres(P("0363"), "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, "2025-09-01", "0599");
  *ev.Add() = Inschrijving(P("0014"), "i1", "2025-09-01", v1::ONDERWIJSSOORT_VO, "07NU");  // same day: BRP wins
  *ev.Add() = Inschrijving(P("0034"), "i2", "2025-10-01", v1::ONDERWIJSSOORT_VO, "08AB");  // later: school
  *ev.Add() = Vrijstelling(P("0200"), "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2025-11-01");
  *ev.Add() = Adres(P("0363"), "e1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2025-12-01", "0998");
  *ev.Add() = Adres(P("0363"), "a2", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, "2026-01-01", "1999");
  const Feiten f = ParseFeiten(ev);
  const Verblijf v = Verblijf::Bereken(f);
  EXPECT_EQ(v.WoongemeenteOp(D("2025-01-01")), "0363");  // first named (2025-08-01)
  EXPECT_EQ(v.WoongemeenteOp(D("2025-08-31")), "0363");
  EXPECT_EQ(v.WoongemeenteOp(D("2025-09-01")), "0599");
  EXPECT_EQ(v.WoongemeenteOp(D("2025-10-01")), "0034");
  EXPECT_EQ(v.WoongemeenteOp(D("2025-11-01")), "0200");
  EXPECT_EQ(v.WoongemeenteOp(D("2025-12-01")), "0200");
  EXPECT_EQ(v.WoongemeenteOp(D("2026-06-01")), "0200");

  google::protobuf::RepeatedPtrField<v1::Event> niets;
  *niets.Add() = Adres(P("0363"), "e1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, "2025-12-01", "0998");
  EXPECT_EQ(Verblijf::Bereken(ParseFeiten(niets)).WoongemeenteOp(D("2025-12-01")), "0000");
  EXPECT_FALSE(IsEchteGemeente("0000"));
  EXPECT_FALSE(IsEchteGemeente("0998"));
  EXPECT_FALSE(IsEchteGemeente("1999"));
  EXPECT_FALSE(IsEchteGemeente(""));
  EXPECT_TRUE(IsEchteGemeente("0363"));
}

}  // namespace
}  // namespace inbeeld::signaling

#include "inbeeld/routing/router.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inbeeld::routing {
namespace {

using ::testing::ElementsAre;

const std::string kConfig = std::string(INBEELD_SOURCE_DIR) + "/deploy/config";

class RouterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tabel = OrganisatieTabel::Load(kConfig + "/organisaties.csv",
                                        kConfig + "/herindelingen.csv");
    ASSERT_TRUE(tabel.ok()) << tabel.status();
    tabel_ = std::make_shared<const OrganisatieTabel>(*std::move(tabel));
  }
  static void TearDownTestSuite() { tabel_.reset(); }

  static v1::Signaal Signaal(v1::SignaalSoort soort, std::string woongemeente,
                             std::string peildatum = "2024-03-01") {
    v1::Signaal s;
    s.set_signaal_id("0123456789abcdef0123456789abcdef");
    s.set_soort(soort);
    s.set_pseudoniem(std::string(64, 'a'));
    s.set_woongemeente(std::move(woongemeente));
    s.set_peildatum(std::move(peildatum));
    return s;
  }

  static std::vector<std::string> Keys(const Routering& r) {
    std::vector<std::string> keys;
    for (const Aflevering& a : r.afleveringen) {
      EXPECT_EQ(a.organisatie_id, a.signaal.organisatie());
      keys.push_back(a.organisatie_id);
    }
    return keys;
  }

  Router router_{[] { return tabel_; }};
  static std::shared_ptr<const OrganisatieTabel> tabel_;
};
std::shared_ptr<const OrganisatieTabel> RouterTest::tabel_;

TEST_F(RouterTest, OneCopyForTheWoongemeente) {
  auto r = router_.Route(Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0501", "2022-12-31"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Keys(*r), ElementsAre("rmc-29"));
  EXPECT_FALSE(r->afleveringen[0].signaal.route_ambigu());
  EXPECT_EQ(r->afleveringen[0].signaal.vorige_organisatie(), "");
  // The rest of the signal is untouched.
  EXPECT_EQ(r->afleveringen[0].signaal.woongemeente(), "0501");
  EXPECT_EQ(r->afleveringen[0].signaal.signaal_id(), "0123456789abcdef0123456789abcdef");
}

TEST_F(RouterTest, OverdrachtToTwoOrganisations) {
  v1::Signaal s = Signaal(v1::SIGNAAL_SOORT_OVERDRACHT, "0363");  // Amsterdam, rmc-21
  s.set_vorige_woongemeente("0599");                              // Rotterdam, rmc-29
  auto r = router_.Route(s);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("rmc-21", "rmc-29"));
  for (const Aflevering& a : r->afleveringen) {
    EXPECT_EQ(a.signaal.vorige_organisatie(), "rmc-29");
  }
}

TEST_F(RouterTest, OverdrachtWithinOneOrganisationIsSentOnce) {
  v1::Signaal s = Signaal(v1::SIGNAAL_SOORT_OVERDRACHT, "1992");  // Voorne aan Zee, rmc-29
  s.set_vorige_woongemeente("0599");                              // Rotterdam, rmc-29
  auto r = router_.Route(s);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("rmc-29"));
  EXPECT_EQ(r->afleveringen[0].signaal.vorige_organisatie(), "rmc-29");
}

// DOMAIN.md §6: OVERDRACHT only between two real gemeenten. One from or to
// 0000/0998/1999 (the core no longer emits it) reaches only the organisation
// that can act, not "onbekend".
TEST_F(RouterTest, OverdrachtWithASpecialCodeGoesOnlyToTheRealOrganisation) {
  for (std::string vorige : {"", "0000", "0998", "1999"}) {
    SCOPED_TRACE(vorige);
    v1::Signaal s = Signaal(v1::SIGNAAL_SOORT_OVERDRACHT, "0363");
    s.set_vorige_woongemeente(vorige);
    auto r = router_.Route(s);
    ASSERT_TRUE(r.ok());
    EXPECT_THAT(Keys(*r), ElementsAre("rmc-21"));
    EXPECT_FALSE(r->onbekend);
    EXPECT_EQ(r->afleveringen[0].signaal.vorige_organisatie(), "");
  }
  v1::Signaal naar_buitenland = Signaal(v1::SIGNAAL_SOORT_OVERDRACHT, "0998", "2024-05-15");
  naar_buitenland.set_vorige_woongemeente("0363");
  auto r = router_.Route(naar_buitenland);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("rmc-21"));
  EXPECT_FALSE(r->onbekend);
}

v1::ZaakRoute Zaak(std::string gemeente, std::string peildatum, bool achttien_plus = false) {
  v1::ZaakRoute z;
  z.set_woongemeente(std::move(gemeente));
  z.set_peildatum(std::move(peildatum));
  z.set_achttien_plus(achttien_plus);
  return z;
}

// Issue 8: vrijstelling-only jongere of 0200 (rmc-11), ABSOLUUT_VERZUIM on
// 2026-03-08, OVERDRACHT to 0957 (rmc-38) on 2026-05-02, new school on
// 2026-06-01: the OPGELOST reaches both organisations that hold the case.
TEST_F(RouterTest, ClosingSignalReachesEveryOrganisationOfTheCase) {
  v1::Signaal s = Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST, "0957", "2026-06-01");
  *s.add_zaak_routes() = Zaak("0200", "2026-03-08");
  *s.add_zaak_routes() = Zaak("0957", "2026-05-02");
  *s.add_zaak_routes() = Zaak("0200", "2026-05-02");
  auto r = router_.Route(s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Keys(*r), ElementsAre("rmc-38", "rmc-11"));
  EXPECT_FALSE(r->onbekend);
  // Signals without a case: only the woongemeente's organisation.
  s.clear_zaak_routes();
  r = router_.Route(s);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("rmc-38"));
}

// A closing signal dated on an emigratie that names 0998 (as an older core
// emitted it) goes to the case's Dutch organisation, not to "onbekend".
TEST_F(RouterTest, ClosingSignalAfterEmigratieGoesToTheCaseNotToOnbekend) {
  v1::Signaal s = Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST, "0998", "2024-05-15");
  *s.add_zaak_routes() = Zaak("0363", "2024-04-01");
  auto r = router_.Route(s);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("rmc-21"));
  EXPECT_FALSE(r->onbekend);
  // Without any real gemeente it still reaches a person: "onbekend".
  s.clear_zaak_routes();
  *s.add_zaak_routes() = Zaak("0000", "2024-04-01");
  r = router_.Route(s);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("onbekend"));
  EXPECT_TRUE(r->onbekend);
}

// Each case route resolves as it did then: on its own peildatum (the table
// row valid then) and 18-plus or not.
TEST_F(RouterTest, CaseRoutesResolveOnTheirOwnDateAndAge) {
  auto custom = OrganisatieTabel::Parse(
      "gemeentecode,organisatie_id,organisatie_naam,oin,geldig_van,geldig_tot,"
      "achttien_plus_organisatie_id\n"
      "0363,lpa-oud,Leerplicht oud,,,2025-12-31,doorstroompunt-21\n"
      "0363,lpa-nieuw,Leerplicht nieuw,,2026-01-01,,doorstroompunt-21\n",
      "ingangsdatum,oude_gemeentecode,nieuwe_gemeentecode\n");
  ASSERT_TRUE(custom.ok()) << custom.status();
  // Opened at 17 in 2025, closed on the 18th birthday in 2026.
  v1::Signaal s = Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST, "0363", "2026-03-15");
  s.set_achttien_plus(true);
  *s.add_zaak_routes() = Zaak("0363", "2025-11-08");
  auto r = RouteSignaal(*custom, s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Keys(*r), ElementsAre("doorstroompunt-21", "lpa-oud"));
  // A route with a bad date resolves on the signal's own peildatum.
  s.clear_zaak_routes();
  *s.add_zaak_routes() = Zaak("0363", "not a date");
  r = RouteSignaal(*custom, s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Keys(*r), ElementsAre("doorstroompunt-21", "lpa-nieuw"));
}

TEST_F(RouterTest, AchttienPlusGoesToTheEighteenPlusOrganisation) {
  auto custom = OrganisatieTabel::Parse(
      "gemeentecode,organisatie_id,organisatie_naam,oin,geldig_van,geldig_tot,"
      "achttien_plus_organisatie_id\n"
      "0363,lpa-amsterdam,Leerplicht Amsterdam,,,,doorstroompunt-21\n"
      "0599,lpa-rotterdam,Leerplicht Rotterdam,,,,doorstroompunt-29\n",
      "ingangsdatum,oude_gemeentecode,nieuwe_gemeentecode\n");
  ASSERT_TRUE(custom.ok()) << custom.status();
  v1::Signaal s = Signaal(v1::SIGNAAL_SOORT_VERZUIMMELDING, "0363");
  auto r = RouteSignaal(*custom, s);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("lpa-amsterdam"));
  s.set_achttien_plus(true);
  r = RouteSignaal(*custom, s);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("doorstroompunt-21"));
  // OVERDRACHT of an 18-plus jongere: both 18-plus organisations.
  s.set_soort(v1::SIGNAAL_SOORT_OVERDRACHT);
  s.set_vorige_woongemeente("0599");
  r = RouteSignaal(*custom, s);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("doorstroompunt-21", "doorstroompunt-29"));
  EXPECT_EQ(r->afleveringen[0].signaal.vorige_organisatie(), "doorstroompunt-29");
}

TEST_F(RouterTest, SplitCodeGoesToEverySuccessorMarkedAmbiguous) {
  auto r = router_.Route(Signaal(v1::SIGNAAL_SOORT_UIT_BEELD, "0788", "2021-03-01"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("rmc-36", "rmc-35"));
  EXPECT_TRUE(r->ambigu);
  for (const Aflevering& a : r->afleveringen) EXPECT_TRUE(a.signaal.route_ambigu());
}

// Routing's loop appends each organisation's fields to the bytes it received
// (BestemmingenVan + AppendAfleveringVelden); VulAflevering sets them on a
// parsed signal. Both must give RouteSignaal's copies, in the same order, also
// when the signal arrives with an organisatie, vorige_organisatie or
// route_ambigu of its own.
TEST_F(RouterTest, CopiesMadeInPlaceAreRouteSignaalsCopies) {
  std::vector<v1::Signaal> cases = {Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0501", "2022-12-31"),
                                    Signaal(v1::SIGNAAL_SOORT_OVERDRACHT, "0363"),
                                    Signaal(v1::SIGNAAL_SOORT_UIT_BEELD, "0788", "2021-03-01"),
                                    Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0998")};
  cases[1].set_vorige_woongemeente("0599");
  v1::Signaal eigen = Signaal(v1::SIGNAAL_SOORT_UIT_BEELD, "0788", "2021-03-01");
  eigen.set_vorige_organisatie("van-eerder");
  eigen.set_route_ambigu(true);
  eigen.set_organisatie("van-eerder");
  cases.push_back(eigen);
  v1::Signaal eigen_enkel = eigen;
  eigen_enkel.set_woongemeente("0501");
  eigen_enkel.set_peildatum("2022-12-31");
  cases.push_back(eigen_enkel);
  for (const v1::Signaal& s : cases) {
    SCOPED_TRACE(s.ShortDebugString());
    auto r = RouteSignaal(*tabel_, s);
    auto b = BestemmingenVan(*tabel_, s);
    ASSERT_TRUE(r.ok() && b.ok());
    EXPECT_EQ(b->ambigu, r->ambigu);
    EXPECT_EQ(b->onbekend, r->onbekend);
    ASSERT_EQ(b->organisatie_ids.size(), r->afleveringen.size());
    v1::Signaal in_place = s;
    for (size_t i = 0; i < r->afleveringen.size(); ++i) {
      EXPECT_EQ(b->organisatie_ids[i], r->afleveringen[i].organisatie_id);
      VulAflevering(*b, b->organisatie_ids[i], &in_place);
      EXPECT_EQ(in_place.SerializeAsString(), r->afleveringen[i].signaal.SerializeAsString()) << i;
      // The received bytes with the copy's fields appended parse as the same copy.
      std::string appended = s.SerializeAsString();
      AppendAfleveringVelden(*b, b->organisatie_ids[i], &appended);
      v1::Signaal parsed;
      ASSERT_TRUE(parsed.ParseFromString(appended)) << i;
      EXPECT_EQ(parsed.SerializeAsString(), r->afleveringen[i].signaal.SerializeAsString()) << i;
    }
  }
  EXPECT_EQ(BestemmingenVan(*tabel_, Signaal(v1::SIGNAAL_SOORT_UIT_BEELD, "0363", "2024-02-30")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RouterTest, UnknownWoongemeenteGoesToOnbekend) {
  for (std::string code : {"", "0000", "0998", "1999", "9999"}) {
    SCOPED_TRACE(code);
    auto r = router_.Route(Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, code));
    ASSERT_TRUE(r.ok());
    EXPECT_THAT(Keys(*r), ElementsAre("onbekend"));
    EXPECT_TRUE(r->onbekend);
  }
}

TEST_F(RouterTest, BadPeildatumIsAnError) {
  for (std::string date : {"", "2024-02-30", "01-03-2024"}) {
    auto r = router_.Route(Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363", date));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << date;
  }
}

TEST_F(RouterTest, PeildatumSelectsTheValidRow) {
  auto custom = OrganisatieTabel::Parse(
      "gemeentecode,organisatie_id,organisatie_naam,oin,geldig_van,geldig_tot,"
      "achttien_plus_organisatie_id\n"
      "0363,oud,Oud,,,2023-12-31,\n"
      "0363,nieuw,Nieuw,,2024-01-01,,\n",
      "ingangsdatum,oude_gemeentecode,nieuwe_gemeentecode\n");
  ASSERT_TRUE(custom.ok()) << custom.status();
  auto r = RouteSignaal(*custom, Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363", "2023-12-31"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("oud"));
  r = RouteSignaal(*custom, Signaal(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363", "2024-01-01"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("nieuw"));
}

}  // namespace
}  // namespace inbeeld::routing

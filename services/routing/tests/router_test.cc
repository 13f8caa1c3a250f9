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

TEST_F(RouterTest, OverdrachtWithoutVorigeWoongemeenteAlsoTellsOnbekend) {
  auto r = router_.Route(Signaal(v1::SIGNAAL_SOORT_OVERDRACHT, "0363"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Keys(*r), ElementsAre("rmc-21", "onbekend"));
  EXPECT_TRUE(r->onbekend);
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

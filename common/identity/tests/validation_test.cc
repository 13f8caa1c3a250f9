#include "inbeeld/identity/validation.h"

#include "gtest/gtest.h"

namespace inbeeld::identity {
namespace {

TEST(BsnTest, Table) {
  struct Case { const char* bsn; bool valid; };
  for (const Case& c : {
           Case{"111222333", true},   // DOMAIN.md §3 example
           Case{"123456782", true},   // 9*1+8*2+...+2*8 = 156, 156-2 = 154 = 14*11
           Case{"111222334", false},  // check digit off by one
           Case{"000000000", false},  // all zeros
           Case{"11122233", false},   // 8 digits
           Case{"1112223330", false}, // 10 digits
           Case{"11122233a", false},
           Case{"", false},
       }) {
    EXPECT_EQ(IsValidBsn(c.bsn), c.valid) << c.bsn;
  }
}

TEST(OnderwijsnummerTest, Table) {
  struct Case { const char* nr; bool valid; };
  for (const Case& c : {
           Case{"101222331", true},   // DOMAIN.md §3 example: 61 - 1 = 60 ≡ 5 (mod 11)
           Case{"101222332", false},
           Case{"111222333", false},  // a BSN: remainder 0, and does not start with 10
           Case{"201222331", false},  // must start with 10
           Case{"10122233", false},
       }) {
    EXPECT_EQ(IsValidOnderwijsnummer(c.nr), c.valid) << c.nr;
  }
}

TEST(CodesTest, BrinVestigingGemeente) {
  EXPECT_TRUE(IsValidBrin("05KO"));
  EXPECT_TRUE(IsValidBrin("07NU"));
  EXPECT_FALSE(IsValidBrin("07nu"));
  EXPECT_FALSE(IsValidBrin("7NU0"));
  EXPECT_FALSE(IsValidBrin("07NU00"));
  EXPECT_TRUE(IsValidVestiging("00"));
  EXPECT_FALSE(IsValidVestiging("0"));
  EXPECT_TRUE(IsValidGemeentecode("0363"));
  EXPECT_TRUE(IsValidGemeentecode("1999"));
  EXPECT_FALSE(IsValidGemeentecode("GM0363"));
  EXPECT_FALSE(IsValidGemeentecode("363"));
}

v1::InschrijvingsMutatie ValidUitschrijving() {
  v1::InschrijvingsMutatie m;
  m.set_mutatie_id("m-1");
  m.set_bron("05KO");
  m.mutable_leerling()->set_bsn("111222333");
  m.set_geboortedatum("2012-05-01");
  m.set_brin("05KO");
  m.set_vestiging("00");
  m.set_woongemeente("0363");
  m.set_soort(v1::MUTATIE_SOORT_UITSCHRIJVING);
  m.set_ingangsdatum("2024-03-01");
  m.set_onderwijssoort(v1::ONDERWIJSSOORT_VO);
  m.set_uitschrijfreden(v1::UITSCHRIJFREDEN_ANDERE_SCHOOL);
  return m;
}

bool HasField(const Violations& v, const std::string& field) {
  for (const auto& f : v) {
    if (f.field == field) return true;
  }
  return false;
}

TEST(ValidateTest, ValidMutatieHasNoViolations) {
  EXPECT_TRUE(Validate(ValidUitschrijving()).empty()) << Describe(Validate(ValidUitschrijving()));
}

TEST(ValidateTest, InvalidBsnNamesTheFieldAndNotTheValue) {
  auto m = ValidUitschrijving();
  m.mutable_leerling()->set_bsn("111222334");
  auto v = Validate(m);
  ASSERT_TRUE(HasField(v, "leerling.bsn"));
  EXPECT_EQ(Describe(v).find("111222334"), std::string::npos);
}

TEST(ValidateTest, FieldLevelErrors) {
  auto m = ValidUitschrijving();
  m.clear_leerling();
  m.set_ingangsdatum("2024-02-30");
  m.set_brin("5KO");
  m.set_uitschrijfreden(v1::UITSCHRIJFREDEN_UNSPECIFIED);
  m.set_mutatie_id(std::string(65, 'x'));
  auto v = Validate(m);
  EXPECT_TRUE(HasField(v, "leerling"));
  EXPECT_TRUE(HasField(v, "ingangsdatum"));
  EXPECT_TRUE(HasField(v, "brin"));
  EXPECT_TRUE(HasField(v, "uitschrijfreden"));
  EXPECT_TRUE(HasField(v, "mutatie_id"));
}

TEST(ValidateTest, MeldingDateOrder) {
  v1::VerzuimMelding m;
  m.set_melding_id("v1");
  m.set_bron("05KO");
  m.mutable_leerling()->set_onderwijsnummer("101222331");
  m.set_geboortedatum("2010-01-31");
  m.set_brin("05KO");
  m.set_soort(v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN);
  m.set_meldingsdatum("2024-03-01");
  m.set_begindatum("2024-03-02");
  m.set_einddatum("2024-02-01");
  auto v = Validate(m);
  EXPECT_TRUE(HasField(v, "begindatum"));
  EXPECT_TRUE(HasField(v, "einddatum"));
  m.set_begindatum("2024-02-01");
  m.set_einddatum("2024-02-20");
  EXPECT_TRUE(Validate(m).empty()) << Describe(Validate(m));
}

TEST(ValidateTest, EnvelopePrefixesPaths) {
  v1::Event e;
  *e.mutable_inschrijvingsmutatie() = ValidUitschrijving();
  e.mutable_inschrijvingsmutatie()->set_brin("");
  auto v = Validate(e);
  EXPECT_TRUE(HasField(v, "inschrijvingsmutatie.brin"));
  EXPECT_TRUE(HasField(Validate(v1::Event()), "event"));
}

TEST(ValidateTest, AdresMutatieNeedsDutchGemeenteForVerhuizing) {
  v1::AdresMutatie a;
  a.set_mutatie_id("a1");
  a.set_bron("GM0363");
  a.mutable_leerling()->set_bsn("111222333");
  a.set_geboortedatum("2012-01-01");
  a.set_soort(v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND);
  a.set_ingangsdatum("2024-01-01");
  EXPECT_TRUE(HasField(Validate(a), "gemeente"));
  a.set_gemeente("0998");
  EXPECT_TRUE(HasField(Validate(a), "gemeente"));
  a.set_gemeente("0363");
  EXPECT_TRUE(Validate(a).empty());
  a.set_soort(v1::ADRES_MUTATIE_SOORT_EMIGRATIE);
  a.clear_gemeente();
  EXPECT_TRUE(Validate(a).empty());
}

TEST(ValidateTest, VrijstellingPeriod) {
  v1::Vrijstelling z;
  z.set_id("z1");
  z.set_bron("GM0363");
  z.mutable_leerling()->set_bsn("111222333");
  z.set_geboortedatum("2012-01-01");
  z.set_artikel(v1::VRIJSTELLING_ARTIKEL_5_ONDER_A);
  z.set_van("2024-05-01");
  z.set_tot("2024-04-01");
  EXPECT_TRUE(HasField(Validate(z), "tot"));
  z.set_tot("");
  EXPECT_TRUE(Validate(z).empty());
}

}  // namespace
}  // namespace inbeeld::identity

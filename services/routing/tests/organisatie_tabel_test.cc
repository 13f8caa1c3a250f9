#include "inbeeld/routing/organisatie_tabel.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inbeeld/routing/csv.h"

namespace inbeeld::routing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

#ifndef INBEELD_SOURCE_DIR
#error "INBEELD_SOURCE_DIR must point at the source tree (deploy/config)"
#endif
const std::string kConfig = std::string(INBEELD_SOURCE_DIR) + "/deploy/config";

std::vector<std::string> Ids(const RouteResult& r) {
  std::vector<std::string> ids;
  for (const Organisatie& o : r.organisaties) ids.push_back(o.id);
  return ids;
}

// ---------------------------------------------------------------- CSV parser

TEST(CsvTest, QuotedFieldsWithCommasQuotesAndNewlines) {
  auto records = ParseCsv(
      "a,b,c\r\n"
      "0820,\"Nuenen, Gerwen en Nederwetten\",x\n"
      "\n"
      "1,\"say \"\"hi\"\"\",\"two\nlines\"\n"
      "2,,\"\"");
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 4u);
  EXPECT_THAT((*records)[1].fields, ElementsAre("0820", "Nuenen, Gerwen en Nederwetten", "x"));
  EXPECT_EQ((*records)[1].line, 2);
  EXPECT_THAT((*records)[2].fields, ElementsAre("1", "say \"hi\"", "two\nlines"));
  EXPECT_EQ((*records)[2].line, 4);
  EXPECT_THAT((*records)[3].fields, ElementsAre("2", "", ""));
  EXPECT_EQ((*records)[3].line, 6);
}

TEST(CsvTest, ByteOrderMarkIsSkipped) {
  auto records = ParseCsv("\xEF\xBB\xBFgemeentecode,x\n");
  ASSERT_TRUE(records.ok());
  EXPECT_THAT((*records)[0].fields, ElementsAre("gemeentecode", "x"));
}

TEST(CsvTest, ErrorsNameSourceAndLine) {
  struct Case {
    std::string text;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"a,b\n1,\"open\n2,3\n", "t.csv:2: unterminated quoted field"},
           {"a,b\n1,2\n3,\"x\"y\n", "t.csv:3: unexpected character after a closing quote"},
           {"a,b\nab\"c,d\n", "t.csv:2: quote inside an unquoted field"},
       }) {
    auto records = ParseCsv(c.text, "t.csv");
    ASSERT_FALSE(records.ok()) << c.text;
    EXPECT_EQ(records.status().message(), c.error);
  }
}

// ---------------------------------------------- the project's default table

class DefaultTabelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tabel = OrganisatieTabel::Load(kConfig + "/organisaties.csv",
                                        kConfig + "/herindelingen.csv");
    ASSERT_TRUE(tabel.ok()) << tabel.status();
    tabel_ = new OrganisatieTabel(*std::move(tabel));
  }
  static void TearDownTestSuite() { delete tabel_; }
  static const OrganisatieTabel* tabel_;
};
const OrganisatieTabel* DefaultTabelTest::tabel_ = nullptr;

TEST_F(DefaultTabelTest, LoadsEveryGemeente) {
  EXPECT_EQ(tabel_->regels().size(), 342u);
  EXPECT_EQ(tabel_->herindelingen().size(), 109u);
}

TEST_F(DefaultTabelTest, Routes) {
  struct Case {
    std::string code;
    std::string date;
    bool achttien_plus;
    std::vector<std::string> gemeenten;
    std::vector<std::string> organisaties;
    bool ambigu;
    bool onbekend;
  };
  const std::vector<Case> cases = {
      // A current gemeente.
      {"0363", "2024-05-01", false, {"0363"}, {"rmc-21"}, false, false},
      {"1992", "2023-01-02", false, {"1992"}, {"rmc-29"}, false, false},
      // Brielle merged into Voorne aan Zee on 2023-01-01: the old code reaches
      // today's organisation before and after the merger.
      {"0501", "2022-12-31", false, {"1992"}, {"rmc-29"}, false, false},
      {"0501", "2023-01-02", false, {"1992"}, {"rmc-29"}, false, false},
      // Haaren was split over four gemeenten in two regions.
      {"0788", "2021-01-02", false, {"0757", "0824", "0855", "0865"}, {"rmc-36", "rmc-35"},
       true, false},
      {"0788", "2024-06-01", true, {"0757", "0824", "0855", "0865"}, {"rmc-36", "rmc-35"},
       true, false},
      // A chain: Groesbeek 0241 → Berg en Dal 1945 (2016), via rename only.
      {"0241", "2015-06-01", false, {"1945"}, {"rmc-14"}, false, false},
      // 18-plus goes to the RMC-regio (the same in the default table).
      {"0363", "2024-05-01", true, {"0363"}, {"rmc-21"}, false, false},
      // Special and unknown codes: never dropped.
      {"1999", "2024-05-01", false, {}, {"onbekend"}, false, true},
      {"0998", "2024-05-01", false, {}, {"onbekend"}, false, true},
      {"0000", "2024-05-01", true, {}, {"onbekend"}, false, true},
      {"9999", "2024-05-01", false, {"9999"}, {"onbekend"}, false, true},
      {"", "2024-05-01", false, {}, {"onbekend"}, false, true},
      {"GM0363", "2024-05-01", false, {}, {"onbekend"}, false, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.code, " ", c.date, c.achttien_plus ? " 18+" : ""));
    absl::CivilDay day;
    ASSERT_TRUE(absl::ParseCivilTime(c.date, &day));
    RouteResult r = tabel_->Route(c.code, day, c.achttien_plus);
    EXPECT_EQ(r.gemeenten, c.gemeenten);
    EXPECT_EQ(Ids(r), c.organisaties);
    EXPECT_EQ(r.ambigu, c.ambigu);
    EXPECT_EQ(r.onbekend, c.onbekend);
  }
}

TEST_F(DefaultTabelTest, OrganisationsCarryNameAndOin) {
  RouteResult r = tabel_->Route("0501", absl::CivilDay(2023, 1, 2), false);
  ASSERT_EQ(r.organisaties.size(), 1u);
  EXPECT_EQ(r.organisaties[0].naam, "RMC-regio Rijnmond");
  EXPECT_EQ(r.organisaties[0].oin.size(), 20u);
  EXPECT_EQ(tabel_->onbekend().id, "onbekend");
}

TEST_F(DefaultTabelTest, NamesWithCommasAreParsed) {
  // 0820 "Nuenen, Gerwen en Nederwetten" is quoted in gemeenten.csv.
  RouteResult r = tabel_->Route("0820", absl::CivilDay(2024, 1, 1), false);
  EXPECT_THAT(Ids(r), ElementsAre("rmc-37"));
}

// ------------------------------------------------------ small custom tables

constexpr char kHeader[] =
    "gemeentecode,organisatie_id,organisatie_naam,oin,geldig_van,geldig_tot,"
    "achttien_plus_organisatie_id\n";
constexpr char kHerHeader[] =
    "ingangsdatum,oude_gemeentecode,oude_gemeentenaam,nieuwe_gemeentecode,nieuwe_gemeentenaam\n";

TEST(OrganisatieTabelTest, ValidityAndEighteenPlus) {
  auto tabel = OrganisatieTabel::Parse(
      absl::StrCat(kHeader,
                   "0100,rbl-a,\"RBL A, Noord\",00000001000000000001,,2023-12-31,rmc-1\n"
                   "0100,rbl-b,RBL B,,2024-01-01,,\n"
                   "0200,rbl-b,RBL B,,,,\n"),
      absl::StrCat(kHerHeader, "2020-01-01,0300,Oud,0100,Nieuw\n"
                               "2021-01-01,0400,Gesplitst,0100,Nieuw\n"
                               "2021-01-01,0400,Gesplitst,0300,Oud\n"));
  ASSERT_TRUE(tabel.ok()) << tabel.status();
  EXPECT_THAT(Ids(tabel->Route("0100", absl::CivilDay(2023, 12, 31), false)),
              ElementsAre("rbl-a"));
  EXPECT_THAT(Ids(tabel->Route("0100", absl::CivilDay(2023, 12, 31), true)),
              ElementsAre("rmc-1"));
  EXPECT_THAT(Ids(tabel->Route("0100", absl::CivilDay(2024, 1, 1), false)),
              ElementsAre("rbl-b"));
  // Empty achttien_plus_organisatie_id: the leerplicht organisation.
  EXPECT_THAT(Ids(tabel->Route("0100", absl::CivilDay(2024, 1, 1), true)),
              ElementsAre("rbl-b"));
  EXPECT_EQ(tabel->Route("0100", absl::CivilDay(2023, 1, 1), false).organisaties[0].naam,
            "RBL A, Noord");
  // 0400 split into 0100 and 0300, and 0300 merged earlier into 0100: both
  // parts end in 0100, so the route is not ambiguous.
  RouteResult r = tabel->Route("0400", absl::CivilDay(2024, 1, 1), false);
  EXPECT_THAT(r.gemeenten, ElementsAre("0100"));
  EXPECT_FALSE(r.ambigu);
  EXPECT_THAT(Ids(r), ElementsAre("rbl-b"));
  // The 18-plus organisation without a row of its own is known by id.
  EXPECT_EQ(tabel->organisaties().at("rmc-1").naam, "rmc-1");
}

TEST(OrganisatieTabelTest, NoValidRowRoutesToOnbekend) {
  auto tabel = OrganisatieTabel::Parse(absl::StrCat(kHeader, "0100,a,A,,2024-01-01,,\n"),
                                       kHerHeader);
  ASSERT_TRUE(tabel.ok()) << tabel.status();
  RouteResult r = tabel->Route("0100", absl::CivilDay(2023, 6, 1), false);
  EXPECT_TRUE(r.onbekend);
  EXPECT_THAT(Ids(r), ElementsAre("onbekend"));
}

TEST(OrganisatieTabelTest, ValidationErrorsHaveLineNumbers) {
  struct Case {
    std::string organisaties;
    std::string herindelingen;
    std::string error;
  };
  const std::string ok_her = kHerHeader;
  const std::vector<Case> cases = {
      {"gemeentecode,organisatie_id\n", ok_her,
       "organisaties.csv:1: missing column \"organisatie_naam\""},
      {absl::StrCat(kHeader, "0100,a,A,,,,\n0200,a,A,,,\n"), ok_her,
       "organisaties.csv:3: expected 7 fields, found 6"},
      {absl::StrCat(kHeader, "100,a,A,,,,\n"), ok_her,
       "organisaties.csv:2: gemeentecode \"100\" is not 4 digits"},
      {absl::StrCat(kHeader, "0100,a,A,,,,\n1999,a,A,,,,\n"), ok_her,
       "organisaties.csv:3: gemeentecode 1999 always routes to \"onbekend\" and cannot have a "
       "row"},
      {absl::StrCat(kHeader, "0100,a b,A,,,,\n"), ok_her,
       "organisaties.csv:2: organisatie_id \"a b\" must be 1-64 of [A-Za-z0-9._-]"},
      {absl::StrCat(kHeader, "0100,a,,,,,\n"), ok_her, "organisaties.csv:2: organisatie_naam is empty"},
      {absl::StrCat(kHeader, "0100,a,A,123,,,\n"), ok_her,
       "organisaties.csv:2: oin \"123\" is not 20 digits"},
      {absl::StrCat(kHeader, "\n\n0100,a,A,,2023-02-29,,\n"), ok_her,
       "organisaties.csv:4: geldig_van \"2023-02-29\" is not a date (YYYY-MM-DD)"},
      {absl::StrCat(kHeader, "0100,a,A,,2024-01-01,2023-01-01,\n"), ok_her,
       "organisaties.csv:2: geldig_tot lies before geldig_van"},
      {absl::StrCat(kHeader, "0100,a,A,,,2023-12-31,\n0100,b,B,,2023-12-31,,\n"), ok_her,
       "organisaties.csv:3: gemeente 0100 already has a row valid in this period (line 2)"},
      {absl::StrCat(kHeader, "0100,a,A,,,,\n0200,a,Other,,,,\n"), ok_her,
       "organisaties.csv:3: organisatie a has another naam or oin than on line 2"},
      {absl::StrCat(kHeader, "0100,a,\"A, quoted\",,,,\n0300,a,A,,,,\n"),
       absl::StrCat(kHerHeader, "2020-01-01,0300,Oud,0100,Nieuw\n"),
       "organisaties.csv:3: gemeente 0300 ceased on 2020-01-01 (herindelingen.csv:2); give its "
       "successor a row instead"},
      {absl::StrCat(kHeader, "0100,\"a,\"b\",A,,,,\n"), ok_her,
       "organisaties.csv:2: unexpected character after a closing quote"},
      {kHeader, absl::StrCat(kHerHeader, "2020-13-01,0300,Oud,0100,Nieuw\n"),
       "herindelingen.csv:2: ingangsdatum \"2020-13-01\" is not a date (YYYY-MM-DD)"},
      {kHeader, absl::StrCat(kHerHeader, "2020-01-01,0300,Oud,0300,Oud\n"),
       "herindelingen.csv:2: gemeente 0300 merges into itself"},
      {kHeader, absl::StrCat(kHerHeader, "2020-01-01,0300,Oud,0998,Buitenland\n"),
       "herindelingen.csv:2: nieuwe_gemeentecode 0998 is a special code, not a gemeente"},
      {kHeader,
       absl::StrCat(kHerHeader, "2020-01-01,0300,Oud,0100,N\n2021-01-01,0300,Oud,0200,M\n"),
       "herindelingen.csv:3: gemeente 0300 already ceased on 2020-01-01 (line 2)"},
      {kHeader,
       absl::StrCat(kHerHeader, "2020-01-01,0300,Oud,0100,N\n2021-01-01,0100,N,0300,Oud\n"),
       "herindelingen.csv:3: herindelingen form a cycle through 0100"},
  };
  for (const Case& c : cases) {
    auto tabel = OrganisatieTabel::Parse(c.organisaties, c.herindelingen);
    ASSERT_FALSE(tabel.ok()) << c.error;
    EXPECT_EQ(tabel.status().message(), c.error);
  }
}

TEST(OrganisatieTabelTest, LoadReportsMissingFile) {
  auto tabel = OrganisatieTabel::Load("/nonexistent/organisaties.csv", kConfig + "/herindelingen.csv");
  EXPECT_EQ(tabel.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace inbeeld::routing

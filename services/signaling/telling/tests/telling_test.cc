// The leerplichttelling: hand-computed figures for a small scenario file that
// exercises every column (tests/telling/make_scenario.py describes each
// jongere), the school-year parser, filters and the CLI.
#include "inbeeld/signaling/telling/telling.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "gtest/gtest.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::signaling {
namespace {

const std::string kBron = INBEELD_SOURCE_DIR;
const std::string kScenario = kBron + "/tests/telling/telling_2023_2024.events.jsonl";

routing::OrganisatieTabel Tabel() {
  auto t = routing::OrganisatieTabel::Load(kBron + "/deploy/config/organisaties.csv",
                                           kBron + "/deploy/config/herindelingen.csv");
  EXPECT_TRUE(t.ok()) << t.status();
  return *std::move(t);
}

std::string Lees(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

v1::TellingResponse Tel(const std::string& events, const TellingFilter& filter = {},
                        std::optional<absl::CivilDay> tot = std::nullopt) {
  static const routing::OrganisatieTabel tabel = Tabel();
  TellingBestandOptions o;
  o.jaar = *Schooljaar::Parse("2023-2024");
  o.filter = filter;
  o.tot_en_met = tot;
  std::istringstream in(events);
  auto t = TellingUitBestand(in, tabel, o, nullptr);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : v1::TellingResponse();
}

using Cijfers = std::map<std::string, uint64_t>;

// Only the non-zero figures of a row.
Cijfers NietNul(const v1::TellingRij& rij) {
  Cijfers c;
  for (const auto& [k, v] : rij.cijfers()) {
    if (v != 0) c[k] = v;
  }
  return c;
}

const v1::TellingRij* Rij(const google::protobuf::RepeatedPtrField<v1::TellingRij>& rijen, const std::string& g,
                          bool organisatie = false) {
  for (const v1::TellingRij& r : rijen) {
    if ((organisatie ? r.organisatie() : r.gemeentecode()) == g) return &r;
  }
  return nullptr;
}

TEST(SchooljaarTest, Parse) {
  auto j = Schooljaar::Parse("2025-2026");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->van(), absl::CivilDay(2025, 8, 1));
  EXPECT_EQ(j->tot(), absl::CivilDay(2026, 7, 31));
  EXPECT_EQ(j->Naam(), "2025-2026");
  for (const char* fout : {"2025-2027", "2025-2025", "2026-2025", "2025/2026", "25-26", "2025-2026x", "", "abcd-efgh",
                           "2025 2026", "+025-2026"}) {
    auto f = Schooljaar::Parse(fout);
    EXPECT_FALSE(f.ok()) << fout;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << fout;
  }
  EXPECT_NE(std::string(Schooljaar::Parse("2025-2027").status().message()).find("consecutive"), std::string::npos);
}

// Hand-computed (see make_scenario.py for the jongeren j1..j17).
TEST(TellingTest, HandBerekend) {
  const v1::TellingResponse t = Tel(Lees(kScenario));
  EXPECT_EQ(t.schooljaar(), "2023-2024");
  EXPECT_EQ(t.tot_en_met(), "2024-07-31");

  const v1::TellingRij* a = Rij(t.gemeenten(), "0363");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->organisatie(), "rmc-21");
  EXPECT_EQ(NietNul(*a), (Cijfers{
                             {"av_nieuw", 5},                      // j1 j2 j5 j6 j12
                             {"av_open_31_juli", 1},               // j12
                             {"av_opgelost", 4},                   // j1 j2 j5 j6
                             {"av_opgelost_inschrijving", 2},      // j1 j2
                             {"av_opgelost_emigratie", 1},         // j5
                             {"av_opgelost_overlijden", 1},        // j6
                             {"av_opgelost_tot_4_weken", 3},       // j2 (19) j5 (19) j6 (14)
                             {"av_opgelost_langer_3_maanden", 1},  // j1 (123)
                             {"av_langdurig", 2},                  // j1 (2023-12-31) j12 (2024-07-01)
                             {"uit_beeld_nieuw", 3},               // j1 (no news) j8 (VOW) j12 (no news)
                             {"uit_beeld_open_31_juli", 2},        // j8 j12
                             {"weer_in_beeld", 1},                 // j1
                             {"lrv_nieuw", 2},                     // j9 (chain) j10 (melding)
                             {"meldingen_16_uur", 1},              // j9, two meldingen: once
                             {"meldingen_lrv", 1},                 // j10
                             {"meldingen_luxe", 1},                // j9
                             {"meldingen_overig", 1},              // j9
                             {"vrijstellingen_actief_5a", 1},      // j12
                             {"vrijstellingen_nieuw_5a", 1},       // j12
                             {"vrijstellingen_actief_5a_trekkend", 1},  // j14
                             {"vrijstellingen_nieuw_5a_trekkend", 1},   // j14
                             {"vrijstellingen_nieuw_15", 1},  // j16: art. 15 during leerplicht is never active
                             {"vrijstelling_loopt_af", 1},    // j12 (2024-02-05)
                         }));

  const v1::TellingRij* b = Rij(t.gemeenten(), "0599");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->organisatie(), "rmc-29");
  EXPECT_EQ(NietNul(*b), (Cijfers{
                             {"av_nieuw", 2},                        // j3 j4
                             {"av_opgelost", 2},                     // j3 j4
                             {"av_opgelost_vrijstelling", 1},        // j3
                             {"av_opgelost_niet_meer_plichtig", 1},  // j4 (18)
                             {"av_opgelost_4_weken_3_maanden", 1},   // j3 (43)
                             {"av_opgelost_langer_3_maanden", 1},    // j4 (109)
                             {"av_langdurig", 1},                    // j4 (2024-05-02, before 18)
                             {"uit_beeld_nieuw", 1},                 // j4 (ends silently at 18)
                             {"meldingen_18_plus", 1},               // j11
                             {"vrijstellingen_actief_5b", 1},        // j3
                             {"vrijstellingen_nieuw_5b", 1},         // j3
                             {"vrijstellingen_actief_5c", 2},        // j13 (since 2022: not new) j17
                             {"vrijstellingen_nieuw_5c", 1},         // j17
                             {"vrijstellingen_actief_15", 1},        // j15 (kwalificatieplichtig)
                             {"vrijstellingen_nieuw_15", 1},         // j15
                         }));

  // Brielle (0501) merged into Voorne aan Zee (1992) on 2023-01-01.
  EXPECT_EQ(Rij(t.gemeenten(), "0501"), nullptr);
  const v1::TellingRij* c = Rij(t.gemeenten(), "1992");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(NietNul(*c), (Cijfers{{"av_nieuw", 1}, {"av_open_31_juli", 1}}));  // j7

  // Every other gemeente: zero; every gemeente of the table has a row.
  for (const v1::TellingRij& r : t.gemeenten()) {
    if (r.gemeentecode() == "0363" || r.gemeentecode() == "0599" || r.gemeentecode() == "1992") continue;
    EXPECT_TRUE(NietNul(r).empty()) << r.gemeentecode();
  }
  EXPECT_EQ(t.gemeenten_size(), 342);

  // Per organisation: rmc-29 has 0599 and 1992 (a jongere once per figure).
  const v1::TellingRij* o = Rij(t.organisaties(), "rmc-29", true);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(NietNul(*o).at("av_nieuw"), 3u);         // j3 j4 j7
  EXPECT_EQ(NietNul(*o).at("av_open_31_juli"), 1u);  // j7
  EXPECT_EQ(NietNul(*Rij(t.organisaties(), "rmc-21", true)), NietNul(*a));

  // Every column is exercised by this scenario.
  for (const std::string& k : TellingKolommen()) {
    EXPECT_TRUE(NietNul(*a).contains(k) || NietNul(*b).contains(k)) << k;
  }
}

// A jongere counts once per figure: the same events twice (other ids) and in
// any order give the same telling.
TEST(TellingTest, VolgordeOnafhankelijk) {
  std::vector<std::string> regels;
  std::istringstream in(Lees(kScenario));
  for (std::string l; std::getline(in, l);) regels.push_back(l);
  std::mt19937 rng(12);
  std::shuffle(regels.begin(), regels.end(), rng);
  std::string geschud;
  for (const std::string& l : regels) geschud += l + "\n";
  EXPECT_EQ(TellingCsv(Tel(geschud), false), TellingCsv(Tel(Lees(kScenario)), false));
  // Each line twice: a retry is the same event.
  EXPECT_EQ(TellingCsv(Tel(geschud + geschud), false), TellingCsv(Tel(Lees(kScenario)), false));
}

// A running year: only what happened through tot_en_met; "open" then.
TEST(TellingTest, LopendJaar) {
  const v1::TellingResponse t = Tel(Lees(kScenario), {}, absl::CivilDay(2023, 12, 31));
  EXPECT_EQ(t.tot_en_met(), "2023-12-31");
  const Cijfers a = NietNul(*Rij(t.gemeenten(), "0363"));
  EXPECT_EQ(a.at("av_nieuw"), 2u);         // j1 j2
  EXPECT_EQ(a.at("av_open_31_juli"), 1u);  // j1 open on 2023-12-31
  EXPECT_EQ(a.at("av_langdurig"), 1u);     // j1 on 2023-12-31 itself
}

TEST(TellingTest, Filters) {
  const routing::OrganisatieTabel tabel = Tabel();
  EXPECT_TRUE(ControleerFilter(tabel, {{"0363"}, ""}).ok());
  absl::Status s = ControleerFilter(tabel, {{"9999"}, ""});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("unknown gemeente 9999"), std::string::npos);
  s = ControleerFilter(tabel, {{"0501"}, ""});
  EXPECT_NE(std::string(s.message()).find("use 1992"), std::string::npos) << s;
  s = ControleerFilter(tabel, {{}, "rmc-999"});
  EXPECT_NE(std::string(s.message()).find("unknown organisatie rmc-999"), std::string::npos);

  const v1::TellingResponse t = Tel(Lees(kScenario), {{}, "rmc-29"});
  std::set<std::string> gemeenten;
  for (const v1::TellingRij& r : t.gemeenten()) gemeenten.insert(r.gemeentecode());
  EXPECT_EQ(gemeenten, GemeentenVanOrganisatie(tabel, "rmc-29"));
  EXPECT_TRUE(gemeenten.contains("1992"));
  EXPECT_FALSE(gemeenten.contains("0363"));
  ASSERT_EQ(t.organisaties_size(), 1);
  EXPECT_EQ(t.organisaties(0).organisatie(), "rmc-29");

  const v1::TellingResponse g = Tel(Lees(kScenario), {{"0599", "0363"}, ""});
  ASSERT_EQ(g.gemeenten_size(), 2);
  EXPECT_EQ(g.gemeenten(0).gemeentecode(), "0363");
}

int Cli(const std::vector<std::string>& args, std::string* out, std::string* err) {
  std::ostringstream o, e;
  std::vector<std::string> met_tabellen = args;
  met_tabellen.push_back("--config-dir=" + kBron + "/deploy/config");
  const int rc = TellingMain(met_tabellen, o, e);
  *out = o.str();
  *err = e.str();
  return rc;
}

TEST(TellingCliTest, CsvEnJson) {
  std::string out, err;
  ASSERT_EQ(Cli({kScenario, "--schooljaar=2023-2024", "--gemeente=0363"}, &out, &err), 0) << err;
  std::istringstream csv(out);
  std::string kop, rij, rest;
  std::getline(csv, kop);
  std::getline(csv, rij);
  EXPECT_FALSE(std::getline(csv, rest));
  EXPECT_EQ(kop.rfind("schooljaar,tot_en_met,gemeentecode,organisatie,av_nieuw,av_open_31_juli,av_opgelost,", 0), 0u)
      << kop;
  EXPECT_EQ(rij.rfind("2023-2024,2024-07-31,0363,rmc-21,5,1,4,2,0,0,1,1,3,0,1,2,", 0), 0u) << rij;
  EXPECT_TRUE(err.empty()) << err;  // no progress unless asked (not a terminal)

  ASSERT_EQ(Cli({kScenario, "--schooljaar=2023-2024", "--organisatie=rmc-29", "--per-organisatie"}, &out, &err), 0);
  EXPECT_NE(out.find("\n2023-2024,2024-07-31,,rmc-29,3,1,"), std::string::npos) << out;

  ASSERT_EQ(Cli({kScenario, "--schooljaar=2023-2024", "--gemeente=1992", "--json", "--progress"}, &out, &err), 0);
  EXPECT_NE(out.find("{\"gemeentecode\":\"1992\",\"organisatie\":\"rmc-29\",\"av_nieuw\":1,\"av_open_31_juli\":1,"),
            std::string::npos)
      << out;
  EXPECT_NE(err.find("telling: 17/17 jongeren"), std::string::npos) << err;
}

TEST(TellingCliTest, FouteInvoer) {
  std::string out, err;
  EXPECT_EQ(Cli({kScenario, "--schooljaar=2023-2025"}, &out, &err), 2);
  EXPECT_NE(err.find("consecutive"), std::string::npos) << err;
  EXPECT_EQ(Cli({kScenario, "--schooljaar=2023"}, &out, &err), 2);
  EXPECT_NE(err.find("YYYY-YYYY"), std::string::npos) << err;
  EXPECT_EQ(Cli({kScenario}, &out, &err), 2);
  EXPECT_NE(err.find("--schooljaar is required"), std::string::npos);
  EXPECT_EQ(Cli({kScenario, "--schooljaar=2023-2024", "--gemeente=9999"}, &out, &err), 2);
  EXPECT_NE(err.find("unknown gemeente 9999"), std::string::npos) << err;
  EXPECT_EQ(Cli({kScenario, "--schooljaar=2023-2024", "--organisatie=nergens"}, &out, &err), 2);
  EXPECT_NE(err.find("unknown organisatie nergens"), std::string::npos) << err;
  EXPECT_EQ(Cli({kScenario, "--schooljaar=2023-2024", "--bogus"}, &out, &err), 2);
  EXPECT_EQ(Cli({"/nonexistent/x.jsonl", "--schooljaar=2023-2024"}, &out, &err), 1);
  EXPECT_TRUE(out.empty());
}

TEST(TellingCliTest, SlechteRegelZonderIdentificatie) {
  std::string out, err;
  const std::string pad = ::testing::TempDir() + "/telling_slecht.jsonl";
  {
    std::ofstream f(pad);
    f << Lees(kScenario) << "{\"inschrijvingsmutatie\":{\"leerling\":{\"bsn\":\"123456789\"}}}\n";
  }
  EXPECT_EQ(Cli({pad, "--schooljaar=2023-2024"}, &out, &err), 2);
  EXPECT_NE(err.find("line 43"), std::string::npos) << err;
  EXPECT_EQ(err.find("123456789"), std::string::npos) << err;
  EXPECT_TRUE(out.empty());
  std::remove(pad.c_str());
}

}  // namespace
}  // namespace inbeeld::signaling

#include "crash_scenario.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "inbeeld/cli/demo_scenario.h"
#include "inbeeld/util/dates.h"
#include "services/signaling/core/tests/test_events.h"

namespace inbeeld::crash {
namespace {

using signaling::testing::Adres;
using signaling::testing::Inschrijving;
using signaling::testing::Melding;
using signaling::testing::Persoon;
using signaling::testing::Uitschrijving;
using signaling::testing::Vrijstelling;

constexpr std::array<const char*, 5> kGemeenten = {"0363", "0599", "0518", "0344", "0014"};
constexpr std::array<const char*, 4> kBrins = {"05KO", "07NU", "12AB", "25LP"};

std::string D(absl::CivilDay d) { return util::FormatDate(d); }

// The day an event becomes known to InBeeld, which decides its chunk.
absl::CivilDay KnownOn(const v1::Event& e) {
  std::string d;
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding: d = e.verzuimmelding().meldingsdatum(); break;
    case v1::Event::kInschrijvingsmutatie: d = e.inschrijvingsmutatie().ingangsdatum(); break;
    case v1::Event::kAdresmutatie: d = e.adresmutatie().ingangsdatum(); break;
    case v1::Event::kVrijstelling: d = e.vrijstelling().van(); break;
    default: break;
  }
  return *util::ParseDate(d);
}

// The events of jongere `i`: one of 15 life stories, with the week and
// weekday spread over the run. Comments name the signals the core should give.
std::vector<v1::Event> Story(int i, int weeks, absl::CivilDay start) {
  Persoon p;
  p.bsn = cli::SyntheticBsn(1000 + i);
  p.woongemeente = kGemeenten[i % kGemeenten.size()];
  const std::string brin = kBrins[i % kBrins.size()];
  const std::string other_brin = kBrins[(i + 1) % kBrins.size()];
  const std::string id = absl::StrCat("j", i, "-");
  // Stories take at most 5 weeks after their first week.
  const int week = 1 + (i * 7) % std::max(1, weeks - 6);
  const absl::CivilDay e = start + 7 * week + (i % 5);
  const absl::CivilDay enrolled(2023, 8, 1);
  auto born = [&](int year) { return D(absl::CivilDay(year, 1 + i % 12, 1 + i % 28)); };
  p.geboortedatum = born(2010 + i % 2);  // vo age by default
  std::vector<v1::Event> out;
  switch (i % 15) {
    case 0:  // enrolled; one 16-uur melding: VERZUIMMELDING
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Melding(p, id + "m1", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, D(e), D(e - 13), D(e - 1)));
      break;
    case 1:  // two chained 16-uur meldingen over more than 28 days: LRV
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Melding(p, id + "m1", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, D(e), D(e - 15), D(e - 1)));
      out.push_back(Melding(p, id + "m2", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, D(e + 14), D(e), D(e + 13)));
      break;
    case 2:  // uitgeschreven, no new school: ABSOLUUT_VERZUIM, later UIT_BEELD
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Uitschrijving(p, id + "u1", D(e), v1::UITSCHRIJFREDEN_VERWIJDERING, v1::ONDERWIJSSOORT_VO,
                                  v1::DIPLOMA_UNSPECIFIED, brin));
      break;
    case 3:  // other school within the grace period: nothing
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Uitschrijving(p, id + "u1", D(e), v1::UITSCHRIJFREDEN_ANDERE_SCHOOL, v1::ONDERWIJSSOORT_VO,
                                  v1::DIPLOMA_UNSPECIFIED, brin));
      out.push_back(Inschrijving(p, id + "i1", D(e + 3), v1::ONDERWIJSSOORT_VO, other_brin));
      break;
    case 4:  // new school after the grace period: ABSOLUUT_VERZUIM + OPGELOST
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Uitschrijving(p, id + "u1", D(e), v1::UITSCHRIJFREDEN_VERWIJDERING, v1::ONDERWIJSSOORT_VO,
                                  v1::DIPLOMA_UNSPECIFIED, brin));
      out.push_back(Inschrijving(p, id + "i1", D(e + 20), v1::ONDERWIJSSOORT_VO, other_brin));
      break;
    case 5:  // vertrek buitenland, BRP emigratie within 30 days: nothing
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Uitschrijving(p, id + "u1", D(e), v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND, v1::ONDERWIJSSOORT_VO,
                                  v1::DIPLOMA_UNSPECIFIED, brin));
      out.push_back(Adres(p, id + "a1", v1::ADRES_MUTATIE_SOORT_EMIGRATIE, D(e + 10)));
      break;
    case 6:  // vertrek buitenland without emigratie: UIT_BEELD + ABSOLUUT_VERZUIM on day 30
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Uitschrijving(p, id + "u1", D(e), v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND, v1::ONDERWIJSSOORT_VO,
                                  v1::DIPLOMA_UNSPECIFIED, brin));
      break;
    case 7:  // VOW: UIT_BEELD; every other one turns up again (WEER_IN_BEELD)
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Adres(p, id + "a1", v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, D(e)));
      if (i % 2 == 0) {
        out.push_back(Adres(p, id + "a2", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, D(e + 21),
                            kGemeenten[(i + 2) % kGemeenten.size()]));
      }
      break;
    case 8: {  // immigratie of a young child: enrolled soon, late (AV + OPGELOST) or never (AV)
      p.geboortedatum = born(2018);
      out.push_back(Adres(p, id + "a1", v1::ADRES_MUTATIE_SOORT_IMMIGRATIE, D(e), p.woongemeente));
      const int enrol_after[] = {4, 25, -1};
      if (int after = enrol_after[(i / 15) % 3]; after >= 0) {
        out.push_back(Inschrijving(p, id + "i1", D(e + after), v1::ONDERWIJSSOORT_PO, brin));
      }
      break;
    }
    case 9:  // uitgeschreven for a vrijstelling art. 5 onder a; limited ones end in ABSOLUUT_VERZUIM
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Uitschrijving(p, id + "u1", D(e), v1::UITSCHRIJFREDEN_VRIJSTELLING, v1::ONDERWIJSSOORT_VO,
                                  v1::DIPLOMA_UNSPECIFIED, brin));
      out.push_back(Vrijstelling(p, id + "v1", v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, D(e + 1),
                                 i % 2 == 0 ? D(e + 21) : ""));
      break;
    case 10:  // open absoluut verzuim, then a move: OVERDRACHT
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Uitschrijving(p, id + "u1", D(e), v1::UITSCHRIJFREDEN_VERWIJDERING, v1::ONDERWIJSSOORT_VO,
                                  v1::DIPLOMA_UNSPECIFIED, brin));
      out.push_back(Adres(p, id + "a1", v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, D(e + 14),
                          kGemeenten[(i + 1) % kGemeenten.size()]));
      break;
    case 11: {  // kwalificatieplichtig mbo student leaves; turns 18 some weeks later
      const absl::CivilDay eighteen = e + 35;
      p.geboortedatum = D(absl::CivilDay(eighteen.year() - 18, eighteen.month(), eighteen.day()));
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_MBO, brin));
      out.push_back(Uitschrijving(p, id + "u1", D(e), v1::UITSCHRIJFREDEN_VERWIJDERING, v1::ONDERWIJSSOORT_MBO,
                                  v1::DIPLOMA_UNSPECIFIED, brin));
      break;
    }
    case 12:  // basisschool, luxe verzuim
      p.geboortedatum = born(2014 + i % 3);
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_PO, brin));
      out.push_back(Melding(p, id + "m1", v1::VERZUIM_SOORT_LUXE, D(e), D(e - 5), D(e - 1)));
      break;
    case 13:  // 18-plus verzuim
      p.geboortedatum = born(2005);
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_MBO, brin));
      out.push_back(Melding(p, id + "m1", v1::VERZUIM_SOORT_18_PLUS, D(e), D(e - 10)));
      break;
    case 14:  // uitgeschreven, then "verblijft niet op adres": UIT_BEELD, AV rules go on
      out.push_back(Inschrijving(p, id + "i0", D(enrolled), v1::ONDERWIJSSOORT_VO, brin));
      out.push_back(Uitschrijving(p, id + "u1", D(e), v1::UITSCHRIJFREDEN_VERWIJDERING, v1::ONDERWIJSSOORT_VO,
                                  v1::DIPLOMA_UNSPECIFIED, brin));
      out.push_back(Adres(p, id + "a1", v1::ADRES_MUTATIE_SOORT_VERBLIJFT_NIET_OP_ADRES, D(e + 3)));
      break;
  }
  return out;
}

}  // namespace

Scenario GenerateScenario(int jongeren, int weeks, absl::CivilDay start) {
  Scenario s;
  s.jongeren = jongeren;
  s.chunks.resize(static_cast<size_t>(weeks));
  for (int k = 0; k < weeks; ++k) s.chunks[static_cast<size_t>(k)].first_day = start + 7 * k;
  std::vector<std::pair<absl::CivilDay, v1::Event>> all;
  for (int i = 0; i < jongeren; ++i) {
    for (v1::Event& e : Story(i, weeks, start)) {
      all.emplace_back(std::max(KnownOn(e), start), std::move(e));
    }
  }
  // By date; a jongere's own events keep their (date) order.
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [day, e] : all) {
    const int64_t k = std::min<int64_t>((day - start) / 7, weeks - 1);
    s.chunks[static_cast<size_t>(k)].events.push_back(std::move(e));
  }
  s.final_day = start + 7 * weeks + 100;
  return s;
}

}  // namespace inbeeld::crash

#include "inbeeld/cli/demo_scenario.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::cli {

std::string SyntheticBsn(int seed) {
  // Each seed owns 16 candidates, so a skipped candidate never collides with
  // the next seed's.
  for (int64_t s = static_cast<int64_t>(seed) * 16;; ++s) {
    // 8 digits from the candidate, spread so that neighbours differ in many places.
    std::string digits = absl::StrFormat("%08d", (s * 7919 + 12345678) % 100000000);
    int sum = 0;
    for (int i = 0; i < 8; ++i) sum += (digits[i] - '0') * (9 - i);
    int check = sum % 11;  // (sum - check) ≡ 0 (mod 11)
    if (check == 10) continue;
    std::string bsn = digits + static_cast<char>('0' + check);
    if (bsn != "000000000") return bsn;
  }
}

namespace {

std::string D(absl::CivilDay d) { return util::FormatDate(d); }

v1::Event Inschrijving(int jongere, absl::CivilDay geboren, std::string brin, std::string gemeente,
                       absl::CivilDay datum, v1::Onderwijssoort soort, std::string id) {
  v1::Event e;
  auto* m = e.mutable_inschrijvingsmutatie();
  m->set_mutatie_id(std::move(id));
  m->set_bron(brin);
  m->mutable_leerling()->set_bsn(SyntheticBsn(jongere));
  m->set_geboortedatum(D(geboren));
  m->set_brin(brin);
  m->set_vestiging("00");
  m->set_woongemeente(std::move(gemeente));
  m->set_soort(v1::MUTATIE_SOORT_INSCHRIJVING);
  m->set_ingangsdatum(D(datum));
  m->set_onderwijssoort(soort);
  return e;
}

v1::Event Uitschrijving(int jongere, absl::CivilDay geboren, std::string brin, std::string gemeente,
                        absl::CivilDay datum, v1::Uitschrijfreden reden, std::string id) {
  v1::Event e = Inschrijving(jongere, geboren, brin, gemeente, datum, v1::ONDERWIJSSOORT_VO, std::move(id));
  auto* m = e.mutable_inschrijvingsmutatie();
  m->set_soort(v1::MUTATIE_SOORT_UITSCHRIJVING);
  m->set_uitschrijfreden(reden);
  return e;
}

v1::Event Adres(int jongere, absl::CivilDay geboren, v1::AdresMutatieSoort soort, absl::CivilDay datum,
                std::string gemeente, std::string id) {
  v1::Event e;
  auto* m = e.mutable_adresmutatie();
  m->set_mutatie_id(std::move(id));
  m->set_bron(absl::StrCat("GM", gemeente.empty() ? "0000" : gemeente));
  m->mutable_leerling()->set_bsn(SyntheticBsn(jongere));
  m->set_geboortedatum(D(geboren));
  m->set_soort(soort);
  m->set_ingangsdatum(D(datum));
  m->set_gemeente(std::move(gemeente));
  return e;
}

v1::Event Vrijstelling(int jongere, absl::CivilDay geboren, v1::VrijstellingArtikel artikel, absl::CivilDay van,
                       absl::CivilDay tot, std::string gemeente, std::string id) {
  v1::Event e;
  auto* v = e.mutable_vrijstelling();
  v->set_id(std::move(id));
  v->set_bron(absl::StrCat("GM", gemeente));
  v->mutable_leerling()->set_bsn(SyntheticBsn(jongere));
  v->set_geboortedatum(D(geboren));
  v->set_artikel(artikel);
  v->set_van(D(van));
  v->set_tot(D(tot));
  v->set_gemeente(std::move(gemeente));
  return e;
}

}  // namespace

std::vector<DemoStep> DemoScenario(absl::CivilDay t) {
  const auto years_ago = [&](int y, int extra_days) {
    return absl::CivilDay(t.year() - y, t.month(), 1) - extra_days;
  };
  std::vector<DemoStep> steps;
  // Jongere 1: 12 years old, removed from school 20 days ago, no new school.
  const absl::CivilDay j1 = years_ago(12, 40);
  steps.push_back({"jongere 1 (12 jaar, Amsterdam) ingeschreven op het vo",
                   Inschrijving(1, j1, "05KO", "0363", t - 400, v1::ONDERWIJSSOORT_VO, "demo-1-in")});
  steps.push_back({"jongere 1 uitgeschreven (verwijdering), geen nieuwe school: ABSOLUUT_VERZUIM na 7 dagen",
                   Uitschrijving(1, j1, "05KO", "0363", t - 20, v1::UITSCHRIJFREDEN_VERWIJDERING, "demo-1-uit")});
  steps.push_back({"jongere 1 verhuist naar Rotterdam met een open zaak: OVERDRACHT",
                   Adres(1, j1, v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, t - 5, "0599", "demo-1-verhuis")});
  // Jongere 2: changes school within the grace period: no signal.
  const absl::CivilDay j2 = years_ago(10, 100);
  steps.push_back({"jongere 2 wisselt van school binnen 7 dagen: geen signaal",
                   Uitschrijving(2, j2, "07NU", "0344", t - 15, v1::UITSCHRIJFREDEN_ANDERE_SCHOOL, "demo-2-uit"), 2});
  steps.push_back({"jongere 2 ingeschreven op de nieuwe school",
                   Inschrijving(2, j2, "12AB", "0344", t - 13, v1::ONDERWIJSSOORT_PO, "demo-2-in"), 2});
  // Jongere 3: a verzuimmelding.
  {
    v1::Event e;
    auto* m = e.mutable_verzuimmelding();
    m->set_melding_id("demo-3-melding");
    m->set_bron("05KO");
    m->mutable_leerling()->set_bsn(SyntheticBsn(3));
    m->set_geboortedatum(D(years_ago(14, 10)));
    m->set_brin("05KO");
    m->set_vestiging("00");
    m->set_woongemeente("0363");
    m->set_soort(v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN);
    m->set_meldingsdatum(D(t - 2));
    m->set_begindatum(D(t - 20));
    m->set_verzuim_uren(17);
    m->set_verzuim_dagen(5);
    m->set_actie_gemeente_gewenst(true);
    m->set_school_actie(v1::SCHOOL_ACTIE_GESPREK_OUDERS);
    steps.push_back({"jongere 3: verzuimmelding 16 uur in 4 weken: VERZUIMMELDING", e});
  }
  // Jongere 4: 13 years old, vertrokken onbekend waarheen.
  steps.push_back({"jongere 4 (13 jaar) vertrokken onbekend waarheen: UIT_BEELD",
                   Adres(4, years_ago(13, 5), v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, t - 3, "0344",
                         "demo-4-vow")});
  // Jongere 5: 19 years old: no longer plichtig, no signal.
  steps.push_back({"jongere 5 (19 jaar) vertrokken onbekend waarheen: geen signaal (niet meer plichtig)",
                   Adres(5, years_ago(19, 5), v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN, t - 3, "0344",
                         "demo-5-vow")});
  // Jongere 6: immigrates at 5 without school, then gets enrolled.
  const absl::CivilDay j6 = years_ago(6, 10);
  steps.push_back({"jongere 6 (6 jaar) immigreert naar Utrecht zonder school: ABSOLUUT_VERZUIM na 7 dagen",
                   Adres(6, j6, v1::ADRES_MUTATIE_SOORT_IMMIGRATIE, t - 40, "0344", "demo-6-immigratie")});
  steps.push_back({"jongere 6 ingeschreven op een basisschool: ABSOLUUT_VERZUIM_OPGELOST",
                   Inschrijving(6, j6, "12AB", "0344", t - 1, v1::ONDERWIJSSOORT_PO, "demo-6-in")});
  // Jongere 7: removed from school 100 days ago and never back: after 13
  // weeks (S + 91 = 8 days ago) the thuiszitter escalates.
  const absl::CivilDay j7 = years_ago(14, 20);
  steps.push_back({"jongere 7 (14 jaar, Amsterdam) ingeschreven op het vo",
                   Inschrijving(7, j7, "05KO", "0363", t - 500, v1::ONDERWIJSSOORT_VO, "demo-7-in")});
  steps.push_back({"jongere 7 uitgeschreven 100 dagen geleden: ABSOLUUT_VERZUIM, UIT_BEELD (90 dagen geen nieuws) en "
                   "ABSOLUUT_VERZUIM_LANGDURIG (13 weken)",
                   Uitschrijving(7, j7, "05KO", "0363", t - 100, v1::UITSCHRIJFREDEN_VERWIJDERING, "demo-7-uit")});
  // Jongere 8: a vrijstelling 5 onder a ending in 30 days with no school to
  // go to: 8 weeks before its end (25 days ago) the organisation is told.
  const absl::CivilDay j8 = years_ago(11, 60);
  steps.push_back({"jongere 8 (11 jaar) woont in Utrecht",
                   Adres(8, j8, v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, t - 200, "0344", "demo-8-adres")});
  steps.push_back({"jongere 8 vrijstelling art. 5 onder a tot over 30 dagen, geen school: VRIJSTELLING_LOOPT_AF",
                   Vrijstelling(8, j8, v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, t - 200, t + 30, "0344", "demo-8-vrijstelling")});
  return steps;
}

}  // namespace inbeeld::cli

// The leerplichttelling per jongere: see telling.h and docs/TELLING.md.
#include "inbeeld/signaling/core/telling.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/tijdlijn.h"

namespace inbeeld::signaling {
namespace {

std::string_view RedenKolom(v1::OplosReden r) {
  switch (r) {
    case v1::OPLOS_REDEN_INSCHRIJVING: return "av_opgelost_inschrijving";
    case v1::OPLOS_REDEN_VRIJSTELLING: return "av_opgelost_vrijstelling";
    case v1::OPLOS_REDEN_NIET_MEER_PLICHTIG: return "av_opgelost_niet_meer_plichtig";
    case v1::OPLOS_REDEN_EMIGRATIE: return "av_opgelost_emigratie";
    case v1::OPLOS_REDEN_OVERLIJDEN: return "av_opgelost_overlijden";
    default: return "";
  }
}

// duur_dagen = opgelost date - S: ≤ 28, 29–91, ≥ 92 (DOMAIN.md §8).
std::string_view DuurKolom(uint32_t duur) {
  if (duur <= 28) return "av_opgelost_tot_4_weken";
  if (duur <= 91) return "av_opgelost_4_weken_3_maanden";
  return "av_opgelost_langer_3_maanden";
}

std::string_view MeldingKolom(const std::string& soort) {
  if (soort == "VERZUIM_SOORT_16_UUR_IN_4_WEKEN") return "meldingen_16_uur";
  if (soort == "VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM") return "meldingen_lrv";
  if (soort == "VERZUIM_SOORT_LUXE") return "meldingen_luxe";
  if (soort == "VERZUIM_SOORT_OVERIG") return "meldingen_overig";
  if (soort == "VERZUIM_SOORT_18_PLUS") return "meldingen_18_plus";
  return "";
}

std::string_view ArtikelSuffix(v1::VrijstellingArtikel a) {
  switch (a) {
    case v1::VRIJSTELLING_ARTIKEL_5_ONDER_A: return "5a";
    case v1::VRIJSTELLING_ARTIKEL_5_ONDER_B: return "5b";
    case v1::VRIJSTELLING_ARTIKEL_5_ONDER_C: return "5c";
    case v1::VRIJSTELLING_ARTIKEL_5A: return "5a_trekkend";
    case v1::VRIJSTELLING_ARTIKEL_15: return "15";
    default: return "";
  }
}

}  // namespace

absl::StatusOr<Schooljaar> Schooljaar::Parse(std::string_view invoer) {
  const std::string text(invoer);
  int a = 0, b = 0;
  const bool vorm = text.size() == 9 && text[4] == '-' &&
                    std::all_of(text.begin(), text.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) &&
                    std::all_of(text.begin() + 5, text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!vorm || !absl::SimpleAtoi(text.substr(0, 4), &a) || !absl::SimpleAtoi(text.substr(5), &b)) {
    return absl::InvalidArgumentError(
        absl::StrCat("schooljaar \"", text, "\" is not YYYY-YYYY (e.g. 2025-2026: 1 August 2025 - 31 July 2026)"));
  }
  if (b != a + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("schooljaar \"", text, "\": the years must be consecutive (e.g. ", a, "-", a + 1, ")"));
  }
  if (a < 1900) return absl::InvalidArgumentError(absl::StrCat("schooljaar \"", text, "\" is out of range"));
  return Schooljaar{a};
}

std::string Schooljaar::Naam() const { return absl::StrCat(begin_jaar, "-", begin_jaar + 1); }

const std::vector<std::string>& TellingKolommen() {
  static const auto* k = new std::vector<std::string>{
      "av_nieuw",
      "av_open_31_juli",
      "av_opgelost",
      "av_opgelost_inschrijving",
      "av_opgelost_vrijstelling",
      "av_opgelost_niet_meer_plichtig",
      "av_opgelost_emigratie",
      "av_opgelost_overlijden",
      "av_opgelost_tot_4_weken",
      "av_opgelost_4_weken_3_maanden",
      "av_opgelost_langer_3_maanden",
      "av_langdurig",
      "uit_beeld_nieuw",
      "uit_beeld_open_31_juli",
      "weer_in_beeld",
      "lrv_nieuw",
      "meldingen_16_uur",
      "meldingen_lrv",
      "meldingen_luxe",
      "meldingen_overig",
      "meldingen_18_plus",
      "vrijstellingen_actief_5a",
      "vrijstellingen_actief_5b",
      "vrijstellingen_actief_5c",
      "vrijstellingen_actief_5a_trekkend",
      "vrijstellingen_actief_15",
      "vrijstellingen_nieuw_5a",
      "vrijstellingen_nieuw_5b",
      "vrijstellingen_nieuw_5c",
      "vrijstellingen_nieuw_5a_trekkend",
      "vrijstellingen_nieuw_15",
      "vrijstelling_loopt_af",
  };
  return *k;
}

std::vector<TellingTelling> TellingBijdrage(const Feiten& feiten, std::string_view pseudoniem,
                                            const CoreConfig& config, const Schooljaar& jaar,
                                            absl::CivilDay tot_en_met) {
  std::vector<TellingTelling> out;
  const absl::CivilDay van = jaar.van();
  const absl::CivilDay tot = std::min(tot_en_met, jaar.tot());
  if (feiten.Leeg() || tot < van || feiten.bekend_vanaf > tot) return out;
  const Tijdlijn tijdlijn(feiten, pseudoniem, config);
  const TijdlijnResultaat res = tijdlijn.Bereken(tot);
  auto tel = [&](std::string_view kolom, const std::string& gemeente, absl::CivilDay dag) {
    if (!kolom.empty()) out.push_back({std::string(kolom), gemeente.empty() ? "0000" : gemeente, dag});
  };

  std::vector<v1::Signaal> signalen = res.signalen;
  for (v1::Signaal& s : tijdlijn.Verzuimmeldingen()) signalen.push_back(std::move(s));
  for (const v1::Signaal& s : signalen) {
    absl::StatusOr<absl::CivilDay> dag = util::ParseDate(s.peildatum());
    if (!dag.ok() || *dag < van || *dag > tot) continue;
    const std::string& g = s.woongemeente();
    switch (s.soort()) {
      case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM: tel("av_nieuw", g, *dag); break;
      case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST:
        tel("av_opgelost", g, *dag);
        tel(RedenKolom(s.reden()), g, *dag);
        tel(DuurKolom(s.duur_dagen()), g, *dag);
        break;
      case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_LANGDURIG: tel("av_langdurig", g, *dag); break;
      case v1::SIGNAAL_SOORT_UIT_BEELD: tel("uit_beeld_nieuw", g, *dag); break;
      case v1::SIGNAAL_SOORT_WEER_IN_BEELD: tel("weer_in_beeld", g, *dag); break;
      case v1::SIGNAAL_SOORT_LANGDURIG_RELATIEF_VERZUIM: tel("lrv_nieuw", g, *dag); break;
      case v1::SIGNAAL_SOORT_VERZUIMMELDING: tel(MeldingKolom(s.melding().soort()), g, *dag); break;
      case v1::SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF: tel("vrijstelling_loopt_af", g, *dag); break;
      default: break;
    }
  }

  // Open at the end of 31 July (or of tot_en_met in a running year): the
  // woongemeente on that day is the peildatum's.
  const std::string gemeente_eind = tijdlijn.verblijf().WoongemeenteOp(tot);
  if (res.absoluut_verzuim_open) tel("av_open_31_juli", gemeente_eind, tot);
  if (res.uit_beeld) tel("uit_beeld_open_31_juli", gemeente_eind, tot);

  // Vrijstellingen: active on at least one day of the year while the jongere
  // was plichtig (art. 15 only counts during kwalificatieplicht, where it has
  // effect), under the woongemeente of the first such day; new when van is
  // in the year, under the woongemeente on van.
  for (const VrijstellingFeit& v : feiten.vrijstellingen) {
    const std::string art(ArtikelSuffix(v.vrijstelling->artikel()));
    if (art.empty()) continue;
    if (v.van >= van && v.van <= tot) {
      tel(absl::StrCat("vrijstellingen_nieuw_", art), tijdlijn.verblijf().WoongemeenteOp(v.van), v.van);
    }
    if (!tijdlijn.plicht()) continue;
    const absl::CivilDay eerste = std::max({v.van, van, feiten.bekend_vanaf});
    const absl::CivilDay laatste = v.tot ? std::min(*v.tot, tot) : tot;
    for (absl::CivilDay d = eerste; d <= laatste; ++d) {
      const v1::Plichtstatus basis = tijdlijn.plicht()->Basis(d).status;
      if (basis == v1::PLICHTSTATUS_NIET_PLICHTIG) continue;
      if (v.vrijstelling->artikel() == v1::VRIJSTELLING_ARTIKEL_15 && basis != v1::PLICHTSTATUS_KWALIFICATIEPLICHTIG) {
        continue;
      }
      tel(absl::StrCat("vrijstellingen_actief_", art), tijdlijn.verblijf().WoongemeenteOp(d), d);
      break;
    }
  }
  return out;
}

}  // namespace inbeeld::signaling

#include "inbeeld/signaling/core/plicht.h"

#include <algorithm>

namespace inbeeld::signaling {
namespace {

constexpr char kArt3Lid1[] = "Leerplichtwet 1969 art. 3 lid 1";

bool IsPo(v1::Onderwijssoort s) {
  return s == v1::ONDERWIJSSOORT_PO || s == v1::ONDERWIJSSOORT_SBO || s == v1::ONDERWIJSSOORT_SO;
}
bool IsVoNaPo(v1::Onderwijssoort s) {
  return s == v1::ONDERWIJSSOORT_VO || s == v1::ONDERWIJSSOORT_VSO || s == v1::ONDERWIJSSOORT_PRO;
}
// Art. 1: startkwalificatie = havo, vwo or mbo niveau 2, 3 or 4 diploma.
bool IsStartkwalificatie(v1::Diploma d) {
  return d == v1::DIPLOMA_HAVO || d == v1::DIPLOMA_VWO || d == v1::DIPLOMA_MBO_2 ||
         d == v1::DIPLOMA_MBO_3 || d == v1::DIPLOMA_MBO_4;
}
// Art. 4a lid 2: praktijkonderwijs getuigschrift / vso uitstroomprofiel.
bool IsArt4aLid2(v1::Diploma d) {
  return d == v1::DIPLOMA_PRO_GETUIGSCHRIFT || d == v1::DIPLOMA_VSO;
}
// First year (the calendar year of its 1 August) of the school year of `day`.
int SchooljaarVan(absl::CivilDay day) {
  return day.month() >= 8 ? static_cast<int>(day.year()) : static_cast<int>(day.year()) - 1;
}

std::string_view VrijstellingRegel(v1::VrijstellingArtikel a) {
  switch (a) {
    case v1::VRIJSTELLING_ARTIKEL_5_ONDER_A: return "vrijstelling.art5_onder_a";
    case v1::VRIJSTELLING_ARTIKEL_5_ONDER_B: return "vrijstelling.art5_onder_b";
    case v1::VRIJSTELLING_ARTIKEL_5_ONDER_C: return "vrijstelling.art5_onder_c";
    case v1::VRIJSTELLING_ARTIKEL_5A: return "vrijstelling.art5a";
    case v1::VRIJSTELLING_ARTIKEL_15: return "vrijstelling.art15";
    default: return "vrijstelling.onbekend";
  }
}
std::string_view VrijstellingArtikelTekst(v1::VrijstellingArtikel a) {
  switch (a) {
    case v1::VRIJSTELLING_ARTIKEL_5_ONDER_A: return "Leerplichtwet 1969 art. 5 onder a";
    case v1::VRIJSTELLING_ARTIKEL_5_ONDER_B: return "Leerplichtwet 1969 art. 5 onder b";
    case v1::VRIJSTELLING_ARTIKEL_5_ONDER_C: return "Leerplichtwet 1969 art. 5 onder c";
    case v1::VRIJSTELLING_ARTIKEL_5A: return "Leerplichtwet 1969 art. 5a";
    case v1::VRIJSTELLING_ARTIKEL_15: return "Leerplichtwet 1969 art. 15";
    default: return "Leerplichtwet 1969 art. 5";
  }
}

}  // namespace

absl::CivilDay Verjaardag(absl::CivilDay geboortedatum, int jaren) {
  const absl::civil_year_t jaar = geboortedatum.year() + jaren;
  if (geboortedatum.month() == 2 && geboortedatum.day() == 29) {
    // CivilDay would normalise 29 Feb to 1 Mar too; explicit for the reader.
    const bool schrikkel = (jaar % 4 == 0 && jaar % 100 != 0) || jaar % 400 == 0;
    return schrikkel ? absl::CivilDay(jaar, 2, 29) : absl::CivilDay(jaar, 3, 1);
  }
  return absl::CivilDay(jaar, geboortedatum.month(), geboortedatum.day());
}

int Leeftijd(absl::CivilDay geboortedatum, absl::CivilDay day) {
  int jaren = static_cast<int>(day.year() - geboortedatum.year());
  if (jaren > 0 && Verjaardag(geboortedatum, jaren) > day) --jaren;
  return jaren < 0 ? 0 : jaren;
}

absl::CivilDay EindeSchooljaar(absl::CivilDay day) {
  return absl::CivilDay(SchooljaarVan(day) + 1, 7, 31);
}

absl::CivilDay LeerplichtBegin(absl::CivilDay geboortedatum) {
  const absl::CivilMonth maand(Verjaardag(geboortedatum, 5));
  return absl::CivilDay(maand + 1);
}

LeerplichtEinde BerekenLeerplichtEinde(absl::CivilDay geboortedatum,
                                       const std::vector<Inschrijving>& inschrijvingen) {
  // Art. 3 lid 1, first criterion: the school year in which he turns 16.
  LeerplichtEinde einde{EindeSchooljaar(Verjaardag(geboortedatum, 16)), "zestien_jaar"};

  // Merge enrolments into covered intervals (unknown start = since forever).
  const absl::CivilDay kMin(1900, 1, 1), kMax(2200, 12, 31);
  std::vector<std::pair<absl::CivilDay, absl::CivilDay>> iv;
  for (const Inschrijving& i : inschrijvingen) {
    iv.emplace_back(i.van.value_or(kMin), i.tot.value_or(kMax));
  }
  std::sort(iv.begin(), iv.end());
  std::vector<std::pair<absl::CivilDay, absl::CivilDay>> merged;
  for (const auto& [van, tot] : iv) {
    if (!merged.empty() && van <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, tot);
    } else {
      merged.emplace_back(van, tot);
    }
  }
  // The covered intervals as yyyymmdd numbers (the same order as the days):
  // `full` runs for every school year of the obligation on every
  // recomputation, and building a CivilDay normalises it each time.
  auto getal = [](absl::CivilDay d) { return d.year() * 10000 + d.month() * 100 + d.day(); };
  std::vector<std::pair<int64_t, int64_t>> gedekt;
  gedekt.reserve(merged.size());
  for (const auto& [van, tot] : merged) gedekt.emplace_back(getal(van), getal(tot));
  auto full = [&](int jaar) {
    const int64_t begin = int64_t{jaar} * 10000 + 801, eind = int64_t{jaar + 1} * 10000 + 731;
    return std::any_of(gedekt.begin(), gedekt.end(),
                       [&](const auto& m) { return m.first <= begin && eind <= m.second; });
  };

  // Art. 3 lid 2: basisschool in fewer than 8 school years, followed by vo.
  std::optional<int> po_laatste_jaar;
  {
    std::optional<absl::CivilDay> po_van, po_tot;
    bool onbekend = false, po_open = false;
    for (const Inschrijving& i : inschrijvingen) {
      if (!IsPo(i.onderwijssoort)) continue;
      if (!i.van.has_value()) onbekend = true;
      if (!i.tot.has_value()) po_open = true;
      if (i.van.has_value() && (!po_van || *i.van < *po_van)) po_van = i.van;
      if (i.tot.has_value() && (!po_tot || *i.tot > *po_tot)) po_tot = i.tot;
    }
    if (po_van && po_tot && !onbekend && !po_open) {
      const int span = SchooljaarVan(*po_tot) - SchooljaarVan(*po_van) + 1;
      const bool gevolgd = std::any_of(
          inschrijvingen.begin(), inschrijvingen.end(), [&](const Inschrijving& i) {
            return IsVoNaPo(i.onderwijssoort) && i.van.has_value() && *i.van >= *po_tot;
          });
      if (span < 8 && gevolgd) po_laatste_jaar = SchooljaarVan(*po_tot);
    }
  }

  // Only school years starting on or after the 4th birthday count
  // (DOMAIN.md §1: "years at school from age 4 count").
  const absl::CivilDay vier = Verjaardag(geboortedatum, 4);
  int jaar = SchooljaarVan(vier);
  if (absl::CivilDay(jaar, 8, 1) < vier) ++jaar;
  const int laatste = SchooljaarVan(einde.tot);
  int volle = 0;
  bool lid2 = false;
  for (; jaar <= laatste; ++jaar) {
    if (full(jaar)) ++volle;
    if (po_laatste_jaar && jaar == *po_laatste_jaar && volle < 8) {
      volle = 8;
      lid2 = true;
    }
    if (volle >= 12) {
      const absl::CivilDay tot(jaar + 1, 7, 31);
      if (tot < einde.tot) {
        einde = {tot, lid2 ? "twaalf_schooljaren_art3_lid2" : "twaalf_schooljaren"};
      }
      break;
    }
  }
  return einde;
}

std::optional<absl::CivilDay> OverlijdensDatum(const Feiten& feiten) {
  std::optional<absl::CivilDay> d;
  auto neem = [&](absl::CivilDay x) { if (!d || x < *d) d = x; };
  for (const AdresFeit& a : feiten.adressen) {
    if (a.mutatie->soort() == v1::ADRES_MUTATIE_SOORT_OVERLIJDEN) neem(a.datum);
  }
  for (const MutatieFeit& m : feiten.mutaties) {
    if (m.mutatie->soort() == v1::MUTATIE_SOORT_UITSCHRIJVING &&
        m.mutatie->uitschrijfreden() == v1::UITSCHRIJFREDEN_OVERLIJDEN) {
      neem(m.datum);
    }
  }
  return d;
}

Plicht Plicht::Bereken(absl::CivilDay geboortedatum, const std::vector<Inschrijving>& inschrijvingen,
                       const Feiten& feiten) {
  Plicht p;
  p.geboortedatum_ = geboortedatum;
  p.leerplicht_van_ = LeerplichtBegin(geboortedatum);
  LeerplichtEinde einde = BerekenLeerplichtEinde(geboortedatum, inschrijvingen);
  p.leerplicht_tot_ = einde.tot;
  p.leerplicht_einde_grond_ = std::move(einde.grond);
  p.achttien_ = Verjaardag(geboortedatum, 18);

  // Diplomas arrive on uitschrijvingen; the earliest one that ends the
  // obligation counts.
  for (const MutatieFeit& m : feiten.mutaties) {
    if (m.mutatie->soort() != v1::MUTATIE_SOORT_UITSCHRIJVING) continue;
    const v1::Diploma d = m.mutatie->diploma();
    if (!IsStartkwalificatie(d) && !IsArt4aLid2(d)) continue;
    if (!p.diploma_einde_ || m.datum < *p.diploma_einde_) {
      p.diploma_einde_ = m.datum;
      p.diploma_is_startkwalificatie_ = IsStartkwalificatie(d);
    }
  }

  // Art. 4a: kwalificatieplicht from the day after volledige leerplicht until
  // the day before the 18th birthday, for a jongere without startkwalificatie.
  // A startkwalificatie (or art. 4a lid 2 getuigschrift) obtained during
  // volledige leerplicht does not end leerplicht but kwalificatieplicht then
  // never starts; obtained after, the plicht ends on the diploma date (the
  // diploma date is the first day without plicht).
  const absl::CivilDay kwal_van = p.leerplicht_tot_ + 1;
  absl::CivilDay kwal_tot = p.achttien_ - 1;
  if (p.diploma_einde_) kwal_tot = std::min(kwal_tot, *p.diploma_einde_ - 1);
  if (kwal_van <= kwal_tot) {
    p.kwal_van_ = kwal_van;
    p.kwal_tot_ = kwal_tot;
  }
  p.overleden_ = OverlijdensDatum(feiten);
  p.vrijstellingen_ = feiten.vrijstellingen;
  return p;
}

PlichtOordeel Plicht::Basis(absl::CivilDay day) const {
  if (overleden_ && day >= *overleden_) {
    return {v1::PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.overleden", kArt3Lid1};
  }
  if (day < leerplicht_van_) {
    return {v1::PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.voor_leerplicht", kArt3Lid1};
  }
  if (day <= leerplicht_tot_) {
    if (leerplicht_einde_grond_ == "twaalf_schooljaren_art3_lid2") {
      return {v1::PLICHTSTATUS_LEERPLICHTIG, "leerplicht.art3_lid1", "Leerplichtwet 1969 art. 3 lid 1, lid 2"};
    }
    return {v1::PLICHTSTATUS_LEERPLICHTIG, "leerplicht.art3_lid1", kArt3Lid1};
  }
  if (kwal_van_ && day >= *kwal_van_ && day <= *kwal_tot_) {
    return {v1::PLICHTSTATUS_KWALIFICATIEPLICHTIG, "kwalificatieplicht.art4a",
            "Leerplichtwet 1969 art. 4a lid 1"};
  }
  if (day >= achttien_) {
    return {v1::PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.achttien_jaar",
            "Leerplichtwet 1969 art. 4a lid 1"};
  }
  if (diploma_einde_) {
    if (diploma_is_startkwalificatie_) {
      return {v1::PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.startkwalificatie",
              "Leerplichtwet 1969 art. 1, 4a lid 1"};
    }
    return {v1::PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.art4a_lid2",
            "Leerplichtwet 1969 art. 4a lid 2"};
  }
  return {v1::PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig", "Leerplichtwet 1969 art. 4a"};
}

bool Plicht::Plichtig(absl::CivilDay day) const {
  return Basis(day).status != v1::PLICHTSTATUS_NIET_PLICHTIG;
}

const VrijstellingFeit* Plicht::ActieveVrijstelling(absl::CivilDay day) const {
  const v1::Plichtstatus basis = Basis(day).status;
  if (basis == v1::PLICHTSTATUS_NIET_PLICHTIG) return nullptr;
  const VrijstellingFeit* actief = nullptr;
  for (const VrijstellingFeit& v : vrijstellingen_) {
    if (day < v.van || (v.tot && day > *v.tot)) continue;
    // Art. 15 exempts only from kwalificatieplicht (DOMAIN.md §6).
    if (v.vrijstelling->artikel() == v1::VRIJSTELLING_ARTIKEL_15 &&
        basis != v1::PLICHTSTATUS_KWALIFICATIEPLICHTIG) {
      continue;
    }
    if (actief == nullptr) actief = &v;
  }
  return actief;
}

PlichtOordeel Plicht::Op(absl::CivilDay day) const {
  if (const VrijstellingFeit* v = ActieveVrijstelling(day)) {
    return {v1::PLICHTSTATUS_VRIJGESTELD, VrijstellingRegel(v->vrijstelling->artikel()),
            VrijstellingArtikelTekst(v->vrijstelling->artikel())};
  }
  return Basis(day);
}

void Plicht::VoegGrenzenToe(std::vector<absl::CivilDay>* days) const {
  days->push_back(leerplicht_van_);
  days->push_back(leerplicht_tot_ + 1);
  days->push_back(achttien_);
  if (kwal_tot_) days->push_back(*kwal_tot_ + 1);
  if (diploma_einde_) days->push_back(*diploma_einde_);
  if (overleden_) days->push_back(*overleden_);
  for (const VrijstellingFeit& v : vrijstellingen_) {
    days->push_back(v.van);
    if (v.tot) days->push_back(*v.tot + 1);
  }
}

}  // namespace inbeeld::signaling

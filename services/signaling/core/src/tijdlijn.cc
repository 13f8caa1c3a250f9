#include "inbeeld/signaling/core/tijdlijn.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/langdurig.h"
#include "inbeeld/signaling/core/lrv.h"
#include "inbeeld/signaling/core/signal_ids.h"
#include "inbeeld/signaling/core/vrijstelling_loopt_af.h"

namespace inbeeld::signaling {
namespace {

using util::FormatDate;

// Why the absoluut-verzuim condition started: decides the waiting period.
enum class Wacht { kGrace, kBuitenland, kJji };

enum class UitBeeldReden { kVow, kVerblijftNietOpAdres, kBuitenland, kJji, kGeenNieuws };

std::string_view UitBeeldRegel(UitBeeldReden r) {
  switch (r) {
    case UitBeeldReden::kVow: return "uit_beeld.vertrokken_onbekend_waarheen";
    case UitBeeldReden::kVerblijftNietOpAdres: return "uit_beeld.verblijft_niet_op_adres";
    case UitBeeldReden::kBuitenland: return "uit_beeld.vertrek_buitenland_zonder_emigratie";
    case UitBeeldReden::kJji: return "uit_beeld.jji_zonder_inschrijving";
    case UitBeeldReden::kGeenNieuws: return "uit_beeld.absoluut_verzuim_geen_nieuws";
  }
  return "uit_beeld";
}

std::string_view RedenNaam(v1::OplosReden r) {
  switch (r) {
    case v1::OPLOS_REDEN_INSCHRIJVING: return "inschrijving";
    case v1::OPLOS_REDEN_VRIJSTELLING: return "vrijstelling";
    case v1::OPLOS_REDEN_NIET_MEER_PLICHTIG: return "niet_meer_plichtig";
    case v1::OPLOS_REDEN_EMIGRATIE: return "emigratie";
    case v1::OPLOS_REDEN_OVERLIJDEN: return "overlijden";
    default: return "onbekend";
  }
}

// Art. 2 lid 1 / art. 4b: the parents (or the kwalificatieplichtige) must see
// to it that the jongere is enrolled; art. 3 and 4a say who is obliged.
std::string AvArtikel(v1::Plichtstatus basis) {
  if (basis == v1::PLICHTSTATUS_KWALIFICATIEPLICHTIG) return "Leerplichtwet 1969 art. 4a, 4b";
  return "Leerplichtwet 1969 art. 2 lid 1, 3 lid 1";
}

bool HeeftAdres(const Feiten& f, absl::CivilDay day, v1::AdresMutatieSoort soort) {
  return std::any_of(f.adressen.begin(), f.adressen.end(), [&](const AdresFeit& a) {
    return a.datum == day && a.mutatie->soort() == soort;
  });
}

std::vector<std::string> RefsOpZonderMeldingen(const Feiten& f, absl::CivilDay day) {
  std::vector<std::string> refs;
  for (const Feit& x : f.alle) {
    if (x.datum == day && x.soort != FeitSoort::kVerzuimMelding) refs.push_back(x.ref);
  }
  return refs;
}

}  // namespace

void MarkeerZaak(std::string_view zaak_signaal_id, const std::vector<v1::ZaakRoute>& routes,
                 v1::Signaal* signaal) {
  signaal->set_zaak_signaal_id(std::string(zaak_signaal_id));
  signaal->clear_zaak_routes();
  for (const v1::ZaakRoute& r : routes) *signaal->add_zaak_routes() = r;
}

Tijdlijn::Tijdlijn(const Feiten& feiten, std::string_view pseudoniem, const CoreConfig& config,
                   const google::protobuf::RepeatedPtrField<std::string>* uitgegeven)
    : feiten_(feiten),
      pseudoniem_(pseudoniem),
      config_(config),
      inschrijvingen_(BouwInschrijvingen(feiten.mutaties, feiten.meldingen)),
      verblijf_(Verblijf::Bereken(feiten)),
      uitgegeven_(uitgegeven) {
  if (feiten.geboortedatum) plicht_ = Plicht::Bereken(*feiten.geboortedatum, inschrijvingen_, feiten);
  loopt_af_.reserve(feiten.vrijstellingen.size());
  for (const VrijstellingFeit& v : feiten.vrijstellingen) loopt_af_.push_back(LooptAfDatum(v, config_));
}

bool Tijdlijn::Bekend(std::string_view signaal_id) const {
  if (uitgegeven_ == nullptr) return false;
  return std::binary_search(uitgegeven_->begin(), uitgegeven_->end(), signaal_id.substr(0, kVingerafdrukTekens),
                            [](std::string_view a, std::string_view b) { return a < b; });
}

v1::ZaakRoute Tijdlijn::RouteOp(absl::CivilDay day) const {
  v1::ZaakRoute r;
  r.set_woongemeente(verblijf_.WoongemeenteOp(day));
  r.set_peildatum(FormatDate(day));
  r.set_achttien_plus(feiten_.geboortedatum && Leeftijd(*feiten_.geboortedatum, day) >= 18);
  return r;
}

PlichtOordeel Tijdlijn::PlichtOp(absl::CivilDay day) const {
  if (!plicht_) return {v1::PLICHTSTATUS_NIET_PLICHTIG, "niet_plichtig.geboortedatum_onbekend", ""};
  return plicht_->Op(day);
}

v1::Signaal Tijdlijn::Basis(v1::SignaalSoort soort, absl::CivilDay day, std::string regel,
                            std::string artikel, std::vector<std::string> oorzaak) const {
  v1::Signaal s;
  s.set_soort(soort);
  *s.mutable_jongere() = feiten_.leerling;
  s.set_pseudoniem(pseudoniem_);
  s.set_woongemeente(verblijf_.WoongemeenteOp(day));
  s.set_peildatum(FormatDate(day));
  s.set_regel(std::move(regel));
  s.set_artikel(std::move(artikel));
  std::sort(oorzaak.begin(), oorzaak.end());
  oorzaak.erase(std::unique(oorzaak.begin(), oorzaak.end()), oorzaak.end());
  for (std::string& o : oorzaak) s.add_oorzaak_event_ids(std::move(o));
  s.set_plichtstatus(PlichtOp(day).status);
  if (feiten_.geboortedatum) {
    s.set_geboortedatum(FormatDate(*feiten_.geboortedatum));
    s.set_achttien_plus(Leeftijd(*feiten_.geboortedatum, day) >= 18);
  }
  return s;
}

std::string Tijdlijn::OpgelostId(const AvZaak& zaak) const {
  // At most one OPGELOST per case: the id depends on the case only.
  return SignaalId(pseudoniem_, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST, zaak.signaal_id, "");
}

std::string Tijdlijn::LangdurigId(const AvZaak& zaak) const {
  // Once per case: the id depends on the case only.
  return SignaalId(pseudoniem_, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_LANGDURIG, zaak.signaal_id, "");
}

std::string Tijdlijn::AvArtikelVan(const AvZaak& zaak) const {
  return plicht_ ? AvArtikel(plicht_->Basis(zaak.begindatum).status) : "";
}

v1::Signaal Tijdlijn::Opgelost(const AvZaak& zaak, absl::CivilDay day, v1::OplosReden reden,
                               std::vector<std::string> oorzaak) const {
  v1::Signaal s = Basis(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST, day,
                        "absoluut_verzuim.opgelost." + std::string(RedenNaam(reden)),
                        AvArtikelVan(zaak), std::move(oorzaak));
  s.set_signaal_id(OpgelostId(zaak));
  s.set_begindatum(FormatDate(zaak.begindatum));
  s.set_reden(reden);
  s.set_duur_dagen(static_cast<uint32_t>(day - zaak.begindatum));
  MarkeerZaak(zaak.signaal_id, zaak.routes, &s);
  return s;
}

v1::Signaal Tijdlijn::OpgelostDoorLaatFeit(const AvZaak& zaak, const v1::Event& laat) const {
  absl::CivilDay day = DatumVan(laat).value_or(zaak.begindatum);
  if (day < zaak.begindatum) day = zaak.begindatum;
  v1::OplosReden reden = v1::OPLOS_REDEN_NIET_MEER_PLICHTIG;
  switch (laat.event_case()) {
    case v1::Event::kInschrijvingsmutatie: {
      const auto& m = laat.inschrijvingsmutatie();
      if (m.uitschrijfreden() == v1::UITSCHRIJFREDEN_OVERLIJDEN) {
        reden = v1::OPLOS_REDEN_OVERLIJDEN;
      } else if (m.diploma() == v1::DIPLOMA_UNSPECIFIED || m.diploma() == v1::DIPLOMA_MBO_1) {
        // An inschrijving, or an uitschrijving revealing an earlier enrolment.
        reden = v1::OPLOS_REDEN_INSCHRIJVING;
      }
      break;
    }
    case v1::Event::kVrijstelling:
      reden = v1::OPLOS_REDEN_VRIJSTELLING;
      break;
    case v1::Event::kAdresmutatie:
      if (laat.adresmutatie().soort() == v1::ADRES_MUTATIE_SOORT_EMIGRATIE) {
        reden = v1::OPLOS_REDEN_EMIGRATIE;
      } else if (laat.adresmutatie().soort() == v1::ADRES_MUTATIE_SOORT_OVERLIJDEN) {
        reden = v1::OPLOS_REDEN_OVERLIJDEN;
      }
      break;
    default:
      break;
  }
  return Opgelost(zaak, day, reden, {RefVan(laat)});
}

std::vector<v1::Signaal> Tijdlijn::Verzuimmeldingen(std::optional<std::string_view> alleen_ref) const {
  std::vector<v1::Signaal> out;
  const std::optional<absl::CivilDay> dood = plicht_ ? plicht_->overleden() : OverlijdensDatum(feiten_);
  for (const MeldingFeit& mf : feiten_.meldingen) {
    if (alleen_ref && mf.ref != *alleen_ref) continue;
    // Overlijden ends everything (DOMAIN.md §6).
    if (dood && mf.meldingsdatum >= *dood) continue;
    const v1::VerzuimMelding& m = *mf.melding;
    const std::string& soort = v1::VerzuimSoort_Name(m.soort());
    v1::Signaal s = Basis(v1::SIGNAAL_SOORT_VERZUIMMELDING, mf.meldingsdatum,
                          absl::StrCat("verzuimmelding.", absl::AsciiStrToLower(
                                                              absl::StripPrefix(soort, "VERZUIM_SOORT_"))),
                          "Leerplichtwet 1969 art. 21, 21a; Besluit verzuimmelding", {mf.ref});
    s.set_signaal_id(SignaalId(pseudoniem_, s.soort(), mf.ref, ""));
    if (m.soort() == v1::VERZUIM_SOORT_18_PLUS) s.set_achttien_plus(true);
    v1::VerzuimMeldingRef* ref = s.mutable_melding();
    ref->set_melding_id(m.melding_id());
    ref->set_bron(m.bron());
    ref->set_brin(m.brin());
    ref->set_vestiging(m.vestiging());
    ref->set_soort(soort);
    ref->set_meldingsdatum(m.meldingsdatum());
    ref->set_begindatum(m.begindatum());
    if (m.has_einddatum()) ref->set_einddatum(m.einddatum());
    ref->set_verzuim_uren(m.verzuim_uren());
    ref->set_verzuim_dagen(m.verzuim_dagen());
    ref->set_actie_gemeente_gewenst(m.actie_gemeente_gewenst());
    ref->set_vermoedelijke_reden(m.vermoedelijke_reden());
    ref->set_alle_lessen_gemist(m.alle_lessen_gemist());
    ref->set_school_actie(v1::SchoolActie_Name(m.school_actie()));
    ref->set_leslocatie(m.leslocatie());
    ref->set_contactpersoon(m.contactpersoon());
    ref->set_afwijkend_adres(m.afwijkend_adres());
    out.push_back(std::move(s));
  }
  return out;
}

TijdlijnResultaat Tijdlijn::Bereken(absl::CivilDay tot_en_met, bool elke_dag) const {
  return Doorloop(tot_en_met, elke_dag, nullptr);
}

std::optional<absl::CivilDay> Tijdlijn::EersteSignaalDagNa(absl::CivilDay na, absl::CivilDay horizon) const {
  EersteNa zoek{na, std::nullopt};
  Doorloop(horizon, /*elke_dag=*/false, &zoek);
  return zoek.dag;
}

TijdlijnResultaat Tijdlijn::BerekenEnZoek(absl::CivilDay tot_en_met, absl::CivilDay horizon,
                                          std::optional<absl::CivilDay>* eerste_signaal_dag) const {
  EersteNa zoek{tot_en_met, std::nullopt, /*verzamel_tot_na=*/true};
  TijdlijnResultaat res = Doorloop(std::max(horizon, tot_en_met), /*elke_dag=*/false, &zoek);
  *eerste_signaal_dag = zoek.dag;
  return res;
}

TijdlijnResultaat Tijdlijn::Doorloop(absl::CivilDay tot_en_met, bool elke_dag, EersteNa* zoek) const {
  TijdlijnResultaat res;
  if (feiten_.Leeg()) return res;
  const absl::CivilDay start = feiten_.bekend_vanaf;

  // Days on which any input of the rules may change (each fact's date and the
  // day after, enrolment ends, obligation boundaries, vrijstelling ends, LRV
  // chain completions). Timer deadlines are added dynamically.
  std::vector<absl::CivilDay> dagen;
  for (const Feit& f : feiten_.alle) {
    dagen.push_back(f.datum);
    dagen.push_back(f.datum + 1);
  }
  for (const Inschrijving& i : inschrijvingen_) {
    if (i.van) dagen.push_back(*i.van);
    if (i.tot) dagen.push_back(*i.tot + 1);
  }
  if (plicht_) plicht_->VoegGrenzenToe(&dagen);
  VoegLooptAfDagenToe(feiten_.vrijstellingen, config_, &dagen);
  for (const MeldingFeit& m : feiten_.meldingen) {
    dagen.push_back(m.begindatum + config_.lrv_days);
    if (m.einddatum) dagen.push_back(*m.einddatum + 1);
  }
  std::sort(dagen.begin(), dagen.end());
  dagen.erase(std::unique(dagen.begin(), dagen.end()), dagen.end());

  // --- State of the cases ---
  // Absoluut-verzuim condition run (pending grace is not a case).
  std::optional<absl::CivilDay> run_start;
  absl::CivilDay run_deadline;
  Wacht wacht = Wacht::kGrace;
  std::vector<std::string> run_oorzaak;
  // Emitted, unresolved ABSOLUUT_VERZUIM.
  std::optional<AvZaak> av;
  std::vector<std::string> av_oorzaak;
  bool av_langdurig = false;  // ABSOLUUT_VERZUIM_LANGDURIG emitted for `av`
  // UIT_BEELD.
  std::optional<std::string> ub_id;
  std::vector<v1::ZaakRoute> ub_routes;
  UitBeeldReden ub_reden = UitBeeldReden::kVow;
  // LRV.
  std::optional<absl::CivilDay> lrv_open;
  std::optional<absl::CivilDay> lrv_reset;
  // The schools (BRIN) of the meldingen that opened the LRV: the LRV ends
  // when the enrolment there ends, also when the jongere switches school.
  std::vector<std::string> lrv_brins;
  bool lrv_vorige_ingeschreven = false;
  auto lrv_ingeschreven = [&](absl::CivilDay d) {
    bool bekend = false;
    for (const Inschrijving& i : inschrijvingen_) {
      if (std::find(lrv_brins.begin(), lrv_brins.end(), i.brin) == lrv_brins.end()) continue;
      bekend = true;
      if (i.ActiefOp(d)) return true;
    }
    // No known enrolment at the reporting school: any enrolment counts.
    return !bekend && IngeschrevenOp(inschrijvingen_, d);
  };
  // Previous evaluated day's values (constant up to the current day).
  std::optional<std::string> vorige_gemeente;

  // BerekenEnZoek: the evaluation through zoek->na is Bereken(zoek->na)'s; its
  // result is taken when it would have ended (sluit_af), the search goes on.
  const bool gecombineerd = zoek != nullptr && zoek->verzamel_tot_na;
  bool afgesloten = false;
  absl::CivilDay day = start;
  auto verzamelen = [&] { return zoek == nullptr || (gecombineerd && day <= zoek->na); };
  auto sluit_af = [&](std::optional<absl::CivilDay> volgende) {
    res.absoluut_verzuim_open = av.has_value();
    res.uit_beeld = ub_id.has_value();
    res.lrv_open = lrv_open.has_value();
    res.volgende_dag = volgende;
    afgesloten = true;
  };

  // A signal of the day being evaluated, with id `id`: true when it is to
  // be built and added to res.signalen. Every signal has that day as its
  // peildatum. While searching, only the earliest such day after
  // `zoek->na` is asked for; an already emitted signal is left out (Bekend).
  auto gevraagd = [&](const std::string& id) {
    if (!verzamelen()) {
      if (day > zoek->na && (!zoek->dag || day < *zoek->dag)) zoek->dag = day;
      return false;
    }
    return !Bekend(id);
  };
  auto emit = [&](const std::string& id, absl::FunctionRef<v1::Signaal()> bouw) {
    if (gevraagd(id)) res.signalen.push_back(bouw());
  };
  auto uit_beeld = [&](UitBeeldReden reden, absl::CivilDay begin, absl::FunctionRef<std::vector<std::string>()> oorzaak) {
    const std::string_view regel = UitBeeldRegel(reden);
    const std::string begindatum = FormatDate(begin);
    const std::string id =
        SignaalId(pseudoniem_, v1::SIGNAAL_SOORT_UIT_BEELD, std::string(regel) + "|" + begindatum, FormatDate(day));
    ub_id = id;
    ub_routes = {RouteOp(day)};
    ub_reden = reden;
    emit(id, [&] {
      v1::Signaal s = Basis(v1::SIGNAAL_SOORT_UIT_BEELD, day, std::string(regel),
                            std::string(plicht_ ? plicht_->Basis(day).artikel : ""), oorzaak());
      s.set_begindatum(begindatum);
      s.set_signaal_id(id);
      return s;
    });
  };

  size_t volgende = 0;
  bool einde = false;
  while (day <= tot_en_met) {
    if (gecombineerd && !afgesloten && day > zoek->na) sluit_af(day);  // nothing up to na to evaluate
    // Days are evaluated in increasing order and a signal emitted while
    // evaluating a day has that day as its peildatum: once past the earliest
    // one found, no later signal can be earlier.
    if (zoek != nullptr && zoek->dag && day >= *zoek->dag) break;
    const PlichtOordeel basis =
        plicht_ ? plicht_->Basis(day) : PlichtOordeel{v1::PLICHTSTATUS_NIET_PLICHTIG, "", ""};
    const bool plichtig = basis.status != v1::PLICHTSTATUS_NIET_PLICHTIG;
    const bool vrijgesteld = plicht_ && plicht_->Vrijgesteld(day);
    const bool ingeschreven = IngeschrevenOp(inschrijvingen_, day);
    const BrpStatus brp = verblijf_.StatusOp(day);
    const bool dood = brp == BrpStatus::kOverleden;
    const std::string gemeente = verblijf_.WoongemeenteOp(day);
    const bool zaak_open = av.has_value() || ub_id.has_value() || lrv_open.has_value();

    // OVERDRACHT: the woongemeente changed while a case was open (a pending
    // grace period is not a case). DOMAIN.md §6.
    // Only between two real gemeenten: 0000, 0998 and 1999 are never a
    // woongemeente here (Verblijf::WoongemeenteOp), checked again for safety.
    if (zaak_open && !dood && vorige_gemeente && IsEchteGemeente(*vorige_gemeente) &&
        IsEchteGemeente(gemeente) && gemeente != *vorige_gemeente) {
      const std::string id = SignaalId(pseudoniem_, v1::SIGNAAL_SOORT_OVERDRACHT,
                                       absl::StrCat(*vorige_gemeente, ">", gemeente), FormatDate(day));
      // The open cases are now held by the new organisation as well: their
      // closing signals go to both (DOMAIN.md §6 "as updated by OVERDRACHT").
      v1::ZaakRoute nieuw = RouteOp(day), oud = nieuw;
      oud.set_woongemeente(*vorige_gemeente);
      if (av) {
        av->routes.push_back(nieuw);
        av->routes.push_back(oud);
        if (verzamelen()) {
          res.av_zaken.back().routes.push_back(nieuw);
          res.av_zaken.back().routes.push_back(oud);
        }
      }
      if (ub_id) {
        ub_routes.push_back(nieuw);
        ub_routes.push_back(oud);
      }
      emit(id, [&] {
        v1::Signaal s = Basis(v1::SIGNAAL_SOORT_OVERDRACHT, day, "overdracht.verhuizing_open_zaak",
                              "Leerplichtwet 1969 art. 16, 18", RefsOpZonderMeldingen(feiten_, day));
        s.set_vorige_woongemeente(*vorige_gemeente);
        s.set_signaal_id(id);
        return s;
      });
    }

    // ABSOLUUT_VERZUIM_OPGELOST: the case ends with an inschrijving, a
    // vrijstelling, the end of the plicht, emigratie or overlijden. VOW does
    // NOT end an open case (DOMAIN.md §6).
    if (av) {
      std::optional<v1::OplosReden> reden;
      if (dood) {
        reden = v1::OPLOS_REDEN_OVERLIJDEN;
      } else if (brp == BrpStatus::kGeemigreerd) {
        reden = v1::OPLOS_REDEN_EMIGRATIE;
      } else if (ingeschreven) {
        reden = v1::OPLOS_REDEN_INSCHRIJVING;
      } else if (vrijgesteld) {
        reden = v1::OPLOS_REDEN_VRIJSTELLING;
      } else if (!plichtig) {
        reden = v1::OPLOS_REDEN_NIET_MEER_PLICHTIG;
      }
      if (reden) {
        emit(OpgelostId(*av), [&] { return Opgelost(*av, day, *reden, RefsOpZonderMeldingen(feiten_, day)); });
        av.reset();
      }
    }

    // UIT_BEELD ends with WEER_IN_BEELD on an inschrijving or a Dutch address;
    // silently on emigratie, overlijden or leaving the obligation.
    if (ub_id) {
      const bool inschrijving = std::any_of(
          feiten_.mutaties.begin(), feiten_.mutaties.end(), [&](const MutatieFeit& m) {
            return m.datum == day && m.mutatie->soort() == v1::MUTATIE_SOORT_INSCHRIJVING;
          });
      const bool adres = HeeftAdres(feiten_, day, v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND) ||
                         HeeftAdres(feiten_, day, v1::ADRES_MUTATIE_SOORT_IMMIGRATIE);
      if (dood || brp == BrpStatus::kGeemigreerd || !plichtig) {
        ub_id.reset();
      } else if (inschrijving || adres) {
        const std::string id = SignaalId(pseudoniem_, v1::SIGNAAL_SOORT_WEER_IN_BEELD, *ub_id, FormatDate(day));
        emit(id, [&] {
          v1::Signaal s = Basis(v1::SIGNAAL_SOORT_WEER_IN_BEELD, day,
                                inschrijving ? "weer_in_beeld.inschrijving" : "weer_in_beeld.nederlands_adres",
                                std::string(basis.artikel), RefsOpZonderMeldingen(feiten_, day));
          s.set_signaal_id(id);
          MarkeerZaak(*ub_id, ub_routes, &s);
          return s;
        });
        ub_id.reset();
      }
    }

    if (dood) {
      // Overlijden: everything ends; no further signals (DOMAIN.md §6).
      lrv_open.reset();
      run_start.reset();
      einde = true;
      break;
    }

    // LANGDURIG_RELATIEF_VERZUIM: an LRV melding, or 16-uur meldingen chaining
    // over more than lrv_days (art. 21; Besluit verzuimmelding). One signal
    // per open LRV.
    if (!lrv_open) {
      std::vector<std::string> refs;
      std::string regel;
      for (const MeldingFeit& m : feiten_.meldingen) {
        if (m.meldingsdatum == day && m.melding->soort() == v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM) {
          refs.push_back(m.ref);
          regel = "langdurig_relatief_verzuim.melding";
        }
      }
      if (refs.empty() && LrvKetenVoltooid(feiten_.meldingen, day, lrv_reset, config_.lrv_days, &refs)) {
        regel = "langdurig_relatief_verzuim.16_uur_meldingen_aaneengesloten";
      }
      if (!refs.empty()) {
        const std::string id =
            SignaalId(pseudoniem_, v1::SIGNAAL_SOORT_LANGDURIG_RELATIEF_VERZUIM, "", FormatDate(day));
        emit(id, [&] {
          v1::Signaal s = Basis(v1::SIGNAAL_SOORT_LANGDURIG_RELATIEF_VERZUIM, day, regel,
                                "Leerplichtwet 1969 art. 21; Besluit verzuimmelding art. 3", refs);
          s.set_signaal_id(id);
          return s;
        });
        lrv_open = day;
        lrv_brins.clear();
        for (const MeldingFeit& m : feiten_.meldingen) {
          if (std::find(refs.begin(), refs.end(), m.ref) != refs.end()) lrv_brins.push_back(m.melding->brin());
        }
        lrv_vorige_ingeschreven = lrv_ingeschreven(day);
      }
    }
    if (lrv_open) {
      // Open until an LRV melding reports an einddatum, or the enrolment ends.
      const bool einde_gemeld = std::any_of(
          feiten_.meldingen.begin(), feiten_.meldingen.end(), [&](const MeldingFeit& m) {
            return m.melding->soort() == v1::VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM && m.einddatum &&
                   m.meldingsdatum >= *lrv_open && m.meldingsdatum <= day;
          });
      // "The enrolment ends": the enrolment at the school that reported the
      // LRV (DOMAIN.md §6), not only the last enrolment anywhere: after a
      // school switch a new school's LRV melding is a new LRV.
      const bool lrv_ingeschreven_nu = lrv_ingeschreven(day);
      const bool uitgeschreven = lrv_vorige_ingeschreven && !lrv_ingeschreven_nu && day > *lrv_open;
      lrv_vorige_ingeschreven = lrv_ingeschreven_nu;
      if (einde_gemeld || uitgeschreven) {
        lrv_open.reset();
        lrv_reset = day;
      }
    }

    // ABSOLUUT_VERZUIM: plichtig ∧ resident ∧ no active enrolment ∧ no active
    // vrijstelling (art. 2 lid 1, 3, 4a, 4b; DOMAIN.md §6), lasting through the
    // grace period (or the 30-day vertrek-buitenland wait).
    const bool conditie = plichtig && brp == BrpStatus::kIngezetene && !ingeschreven && !vrijgesteld;
    if (!conditie) {
      run_start.reset();
    } else if (!run_start) {
      run_start = day;
      wacht = Wacht::kGrace;
      for (const MutatieFeit& m : feiten_.mutaties) {
        if (m.datum != day - 1 || m.mutatie->soort() != v1::MUTATIE_SOORT_UITSCHRIJVING) continue;
        if (m.mutatie->uitschrijfreden() == v1::UITSCHRIJFREDEN_VERTREK_BUITENLAND) {
          wacht = Wacht::kBuitenland;
        } else if (m.mutatie->onderwijssoort() == v1::ONDERWIJSSOORT_JJI && wacht == Wacht::kGrace) {
          wacht = Wacht::kJji;
        }
      }
      run_deadline = day + (wacht == Wacht::kBuitenland ? config_.buitenland_wacht_days : config_.grace_days);
      run_oorzaak = RefsOpZonderMeldingen(feiten_, day - 1);
      for (std::string& r : RefsOpZonderMeldingen(feiten_, day)) run_oorzaak.push_back(std::move(r));
      if (run_oorzaak.empty()) {
        if (std::optional<absl::CivilDay> laatste = feiten_.LaatsteFeitTot(day)) {
          run_oorzaak = feiten_.RefsOp(*laatste);
        }
      }
    }
    if (run_start && wacht == Wacht::kBuitenland && day <= run_deadline &&
        HeeftAdres(feiten_, day, v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND)) {
      // A Dutch verhuizing ends the wait; the normal grace runs from the move.
      wacht = Wacht::kGrace;
      run_deadline = day + config_.grace_days;
      for (std::string& r : RefsOpZonderMeldingen(feiten_, day)) run_oorzaak.push_back(std::move(r));
    }
    const bool vow_uit_beeld = ub_id && ub_reden == UitBeeldReden::kVow;
    if (run_start && day == run_deadline && !av && !vow_uit_beeld) {
      std::string_view regel = "absoluut_verzuim.grace_verlopen";
      if (wacht == Wacht::kBuitenland) regel = "absoluut_verzuim.vertrek_buitenland_zonder_emigratie";
      if (wacht == Wacht::kJji) regel = "absoluut_verzuim.jji_zonder_inschrijving";
      const std::string begindatum = FormatDate(*run_start);
      const std::string id = SignaalId(pseudoniem_, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, begindatum, FormatDate(day));
      av = AvZaak{id, *run_start, {RouteOp(day)}};
      av_oorzaak = run_oorzaak;
      av_langdurig = false;
      if (verzamelen()) res.av_zaken.push_back(*av);
      emit(id, [&] {
        v1::Signaal s = Basis(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, day, std::string(regel), AvArtikel(basis.status),
                              run_oorzaak);
        s.set_begindatum(begindatum);
        s.set_signaal_id(id);
        return s;
      });
      if (!ub_id && wacht == Wacht::kBuitenland) {
        uit_beeld(UitBeeldReden::kBuitenland, *run_start, [&] { return run_oorzaak; });
      } else if (!ub_id && wacht == Wacht::kJji) {
        uit_beeld(UitBeeldReden::kJji, *run_start, [&] { return run_oorzaak; });
      }
    }

    // ABSOLUUT_VERZUIM_LANGDURIG: still open at the end of S + 91 (a case
    // resolved on that day itself was closed above). Once per case.
    if (av && !av_langdurig && day >= LangdurigDatum(av->begindatum, config_)) {
      emit(LangdurigId(*av), [&] { return Langdurig(*av, day, av_oorzaak); });
      av_langdurig = true;
    }

    // VRIJSTELLING_LOOPT_AF: 8 weeks before a vrijstelling ends with nothing
    // to go to.
    VrijstellingenLopenAf(day, brp, emit);

    // UIT_BEELD (only for a plichtige jongere; one while uit beeld).
    if (!ub_id && plichtig) {
      const auto refs_op_dag = [&] { return RefsOpZonderMeldingen(feiten_, day); };
      if (HeeftAdres(feiten_, day, v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN)) {
        uit_beeld(UitBeeldReden::kVow, day, refs_op_dag);
      } else if (HeeftAdres(feiten_, day, v1::ADRES_MUTATIE_SOORT_VERBLIJFT_NIET_OP_ADRES)) {
        uit_beeld(UitBeeldReden::kVerblijftNietOpAdres, day, refs_op_dag);
      } else if (av) {
        // Absoluut verzuim open geen_nieuws_days with no news; any event about
        // the jongere restarts the count (DOMAIN.md §6).
        const absl::CivilDay basisdag = std::max(av->begindatum, feiten_.LaatsteFeitTot(day).value_or(day));
        if (day >= basisdag + config_.geen_nieuws_days) {
          uit_beeld(UitBeeldReden::kGeenNieuws, av->begindatum, [&] { return av_oorzaak; });
        }
      }
    }

    vorige_gemeente = gemeente;

    // Next day to evaluate.
    if (elke_dag) {
      if (gecombineerd && !afgesloten && day + 1 > zoek->na) sluit_af(day + 1);
      day += 1;
      continue;
    }
    while (volgende < dagen.size() && dagen[volgende] <= day) ++volgende;
    // The next fact day, else the day after the last one evaluated; then the
    // timers.
    auto volgende_dag = [&](absl::CivilDay laatste) {
      absl::CivilDay next = volgende < dagen.size() ? dagen[volgende] : laatste + 1;
      if (run_start && run_deadline > day) next = std::min(next, run_deadline);
      if (av && !av_langdurig) next = std::min(next, std::max(day + 1, LangdurigDatum(av->begindatum, config_)));
      if (av && !ub_id) {
        const absl::CivilDay basisdag = std::max(av->begindatum, feiten_.LaatsteFeitTot(day).value_or(day));
        const absl::CivilDay wekker = basisdag + config_.geen_nieuws_days;
        if (wekker > day) next = std::min(next, wekker);
      }
      return next;
    };
    if (gecombineerd && !afgesloten) {
      // Where Bereken(na) would stop.
      const absl::CivilDay next = volgende_dag(zoek->na);
      if (next > zoek->na) sluit_af(next);
    }
    day = volgende_dag(tot_en_met);
  }
  if (!afgesloten) sluit_af(einde ? std::nullopt : std::optional<absl::CivilDay>(day));
  return res;
}

}  // namespace inbeeld::signaling

#pragma once
// Builders of events for tests and benchmarks (header-only, not linked into
// the service).
#include <string>

#include "inbeeld/v1/events.pb.h"

namespace inbeeld::signaling::testing {

inline constexpr char kBsn[] = "111222333";

inline v1::Leerling LeerlingBsn(const std::string& bsn = kBsn) {
  v1::Leerling l;
  l.set_bsn(bsn);
  return l;
}

struct Persoon {
  std::string bsn = kBsn;
  std::string geboortedatum = "2010-03-15";
  std::string woongemeente = "0363";
};

inline v1::Event Inschrijving(const Persoon& p, const std::string& id, const std::string& datum,
                              v1::Onderwijssoort soort = v1::ONDERWIJSSOORT_VO,
                              const std::string& brin = "05KO") {
  v1::Event e;
  auto* m = e.mutable_inschrijvingsmutatie();
  m->set_mutatie_id(id);
  m->set_bron(brin);
  *m->mutable_leerling() = LeerlingBsn(p.bsn);
  m->set_geboortedatum(p.geboortedatum);
  m->set_brin(brin);
  m->set_woongemeente(p.woongemeente);
  m->set_soort(v1::MUTATIE_SOORT_INSCHRIJVING);
  m->set_ingangsdatum(datum);
  m->set_onderwijssoort(soort);
  return e;
}

inline v1::Event Uitschrijving(const Persoon& p, const std::string& id, const std::string& datum,
                               v1::Uitschrijfreden reden = v1::UITSCHRIJFREDEN_VERWIJDERING,
                               v1::Onderwijssoort soort = v1::ONDERWIJSSOORT_VO,
                               v1::Diploma diploma = v1::DIPLOMA_UNSPECIFIED,
                               const std::string& brin = "05KO") {
  v1::Event e = Inschrijving(p, id, datum, soort, brin);
  auto* m = e.mutable_inschrijvingsmutatie();
  m->set_soort(v1::MUTATIE_SOORT_UITSCHRIJVING);
  m->set_uitschrijfreden(reden);
  m->set_diploma(diploma);
  return e;
}

inline v1::Event Adres(const Persoon& p, const std::string& id, v1::AdresMutatieSoort soort,
                       const std::string& datum, const std::string& gemeente = "") {
  v1::Event e;
  auto* m = e.mutable_adresmutatie();
  m->set_mutatie_id(id);
  m->set_bron("BRP");
  *m->mutable_leerling() = LeerlingBsn(p.bsn);
  m->set_geboortedatum(p.geboortedatum);
  m->set_soort(soort);
  m->set_ingangsdatum(datum);
  m->set_gemeente(gemeente);
  return e;
}

inline v1::Event Vrijstelling(const Persoon& p, const std::string& id, v1::VrijstellingArtikel artikel,
                              const std::string& van, const std::string& tot = "") {
  v1::Event e;
  auto* v = e.mutable_vrijstelling();
  v->set_id(id);
  v->set_bron("0363");
  *v->mutable_leerling() = LeerlingBsn(p.bsn);
  v->set_geboortedatum(p.geboortedatum);
  v->set_artikel(artikel);
  v->set_van(van);
  v->set_tot(tot);
  v->set_gemeente(p.woongemeente);
  return e;
}

inline v1::Event Melding(const Persoon& p, const std::string& id, v1::VerzuimSoort soort,
                         const std::string& meldingsdatum, const std::string& begindatum,
                         const std::string& einddatum = "") {
  v1::Event e;
  auto* m = e.mutable_verzuimmelding();
  m->set_melding_id(id);
  m->set_bron("05KO");
  *m->mutable_leerling() = LeerlingBsn(p.bsn);
  m->set_geboortedatum(p.geboortedatum);
  m->set_brin("05KO");
  m->set_woongemeente(p.woongemeente);
  m->set_soort(soort);
  m->set_meldingsdatum(meldingsdatum);
  m->set_begindatum(begindatum);
  if (!einddatum.empty()) m->set_einddatum(einddatum);
  m->set_verzuim_uren(16);
  m->set_verzuim_dagen(4);
  m->set_school_actie(v1::SCHOOL_ACTIE_GESPREK_OUDERS);
  return e;
}

}  // namespace inbeeld::signaling::testing

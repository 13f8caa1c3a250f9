#pragma once
// Builders of events for tests and benchmarks (header-only, not linked into
// the service).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "inbeeld/util/dates.h"
#include "inbeeld/v1/events.pb.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"

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

// Plays `events` as `inbeeld replay` does: in canonical order, day by day,
// all of a day's events and then AdvanceTo that day, finally AdvanceTo
// `until`; with `elke_dag` every day in between is evaluated too (a daily
// tick). Signals come back ordered by (peildatum, soort), ties in emission
// order.
inline std::vector<v1::Signaal> SpeelAlsReplay(std::vector<v1::Event> events, const std::string& until,
                                               bool elke_dag = false) {
  constexpr char kPseudo[] = "pseudo";
  const CoreConfig config;
  std::stable_sort(events.begin(), events.end(),
                   [](const v1::Event& a, const v1::Event& b) { return CanonicalLess(a, b); });
  Jongere j;
  std::vector<v1::Signaal> out;
  auto add = [&](std::vector<v1::Signaal> s) { out.insert(out.end(), s.begin(), s.end()); };
  for (size_t i = 0; i < events.size(); ++i) {
    add(j.Apply(events[i], kPseudo, config));
    if (i + 1 == events.size() || *DatumVan(events[i + 1]) != *DatumVan(events[i])) {
      add(j.AdvanceTo(*DatumVan(events[i]), kPseudo, config));
    }
  }
  const absl::CivilDay tot = *util::ParseDate(until);
  if (elke_dag && j.EvaluatedThrough().has_value()) {
    for (absl::CivilDay d = *j.EvaluatedThrough() + 1; d < tot; ++d) add(j.AdvanceTo(d, kPseudo, config));
  }
  add(j.AdvanceTo(tot, kPseudo, config));
  std::stable_sort(out.begin(), out.end(), [](const v1::Signaal& a, const v1::Signaal& b) {
    return std::make_pair(a.peildatum(), static_cast<int>(a.soort())) <
           std::make_pair(b.peildatum(), static_cast<int>(b.soort()));
  });
  return out;
}

}  // namespace inbeeld::signaling::testing

#include "inbeeld/signaling/core/jongere.h"

#include <algorithm>

#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/tijdlijn.h"

namespace inbeeld::signaling {
namespace {

using util::FormatDate;

// What the state remembers of an emitted signal: the first 16 hex characters
// (64 bits) of its id. Ids are SHA-256 based, so two signals of one jongere
// (tens at most) share a prefix with a probability below 1e-16; a prefix
// takes half the stored bytes of a whole id. States written before hold
// whole ids and are read as their prefixes.
constexpr size_t kVingerafdruk = 16;

void SorteerSignalen(std::vector<v1::Signaal>* s) {
  std::sort(s->begin(), s->end(), [](const v1::Signaal& a, const v1::Signaal& b) {
    return std::tie(a.peildatum(), a.signaal_id()) < std::tie(b.peildatum(), b.signaal_id());
  });
}

}  // namespace

std::string Vingerafdruk(const std::string& signaal_id) { return signaal_id.substr(0, kVingerafdruk); }

v1::StatusResponse StatusAnswer::ToProto() const {
  v1::StatusResponse r;
  r.set_status(status);
  r.set_regel(regel);
  r.set_artikel(artikel);
  r.set_peildatum(FormatDate(peildatum));
  if (leerplicht_van) r.set_leerplicht_van(FormatDate(*leerplicht_van));
  if (leerplicht_tot) r.set_leerplicht_tot(FormatDate(*leerplicht_tot));
  if (kwalificatieplicht_van) r.set_kwalificatieplicht_van(FormatDate(*kwalificatieplicht_van));
  if (kwalificatieplicht_tot) r.set_kwalificatieplicht_tot(FormatDate(*kwalificatieplicht_tot));
  r.set_ingeschreven(ingeschreven);
  r.set_absoluut_verzuim(absoluut_verzuim);
  r.set_uit_beeld(uit_beeld);
  return r;
}

Jongere Jongere::FromState(internal::v1::JongereState state) {
  Jongere j;
  j.state_ = std::move(state);
  for (const v1::Event& e : j.state_.feiten()) j.dedup_.insert(DedupSleutel(e));
  for (const std::string& id : j.state_.uitgegeven_signaal_ids()) j.uitgegeven_.insert(Vingerafdruk(id));
  if (static_cast<size_t>(j.state_.uitgegeven_signaal_ids_size()) != j.uitgegeven_.size() ||
      !std::equal(j.uitgegeven_.begin(), j.uitgegeven_.end(), j.state_.uitgegeven_signaal_ids().begin())) {
    // A state of the whole-id time: store the prefixes from now on.
    j.state_.mutable_uitgegeven_signaal_ids()->Clear();
    for (const std::string& id : j.uitgegeven_) j.state_.add_uitgegeven_signaal_ids(id);
  }
  return j;
}

std::optional<absl::CivilDay> Jongere::EvaluatedThrough() const {
  if (!state_.geevalueerd_tot().empty()) {
    if (auto d = util::ParseDate(state_.geevalueerd_tot()); d.ok()) return *d;
  }
  if (state_.feiten_size() == 0) return std::nullopt;
  // feiten are in canonical order: the first has the earliest date.
  absl::StatusOr<absl::CivilDay> eerste = DatumVan(state_.feiten(0));
  if (!eerste.ok()) return std::nullopt;
  return *eerste - 1;
}

std::vector<v1::Signaal> Jongere::Apply(const v1::Event& event, std::string_view pseudoniem,
                                        const CoreConfig& config) {
  if (event.event_case() == v1::Event::EVENT_NOT_SET || !DatumVan(event).ok()) return {};
  if (!dedup_.insert(DedupSleutel(event)).second) return {};
  // Insert in canonical order.
  auto* feiten = state_.mutable_feiten();
  feiten->Add()->CopyFrom(event);
  for (int i = feiten->size() - 1; i > 0 && CanonicalLess(feiten->Get(i), feiten->Get(i - 1)); --i) {
    feiten->SwapElements(i, i - 1);
  }
  return Herbereken(pseudoniem, config, &event);
}

std::vector<v1::Signaal> Jongere::AdvanceTo(absl::CivilDay day, std::string_view pseudoniem,
                                            const CoreConfig& config) {
  const std::optional<absl::CivilDay> huidig = EvaluatedThrough();
  if (!huidig) return {};  // no facts: nothing to evaluate
  if (!state_.geevalueerd_tot().empty() && day <= *huidig) return {};
  if (!state_.geevalueerd_tot().empty() && !state_.wekker().empty()) {
    absl::StatusOr<absl::CivilDay> wekker = util::ParseDate(state_.wekker());
    if (wekker.ok() && day < *wekker) {
      // Nothing can change before the wekker: skip the recomputation.
      state_.set_geevalueerd_tot(FormatDate(day));
      return {};
    }
  }
  state_.set_geevalueerd_tot(FormatDate(std::max(*huidig, day)));
  return Herbereken(pseudoniem, config, nullptr);
}

std::vector<v1::Signaal> Jongere::Herbereken(std::string_view pseudoniem, const CoreConfig& config,
                                             const v1::Event* laat) {
  std::vector<v1::Signaal> nieuw;
  const std::optional<absl::CivilDay> tot = EvaluatedThrough();
  if (!tot) return nieuw;
  const Feiten feiten = ParseFeiten(state_.feiten());
  const Tijdlijn tijdlijn(feiten, pseudoniem, config);
  TijdlijnResultaat res = tijdlijn.Bereken(*tot);

  // VERZUIMMELDING is emitted on the Apply of its melding (not delayed), so
  // only the event just applied can add one.
  if (laat != nullptr && laat->event_case() == v1::Event::kVerzuimmelding) {
    const std::string ref = RefVan(*laat);
    for (v1::Signaal& s : tijdlijn.Verzuimmeldingen(ref)) res.signalen.push_back(std::move(s));
  }

  // The routes of the emitted cases as now computed; a case that a late event
  // removes keeps its last known routes.
  for (internal::v1::AbsoluutVerzuimZaak& z : *state_.mutable_av_zaken()) {
    for (const AvZaak& nu : res.av_zaken) {
      if (nu.signaal_id != z.signaal_id()) continue;
      z.clear_routes();
      for (const v1::ZaakRoute& r : nu.routes) *z.add_routes() = r;
    }
  }

  // A late event may remove an already emitted case entirely: resolve it.
  if (laat != nullptr) {
    absl::flat_hash_set<std::string> nog_geldig;
    for (const AvZaak& z : res.av_zaken) nog_geldig.insert(z.signaal_id);
    for (const internal::v1::AbsoluutVerzuimZaak& z : state_.av_zaken()) {
      if (nog_geldig.contains(z.signaal_id())) continue;
      absl::StatusOr<absl::CivilDay> begin = util::ParseDate(z.begindatum());
      if (!begin.ok()) continue;
      res.signalen.push_back(tijdlijn.OpgelostDoorLaatFeit(
          AvZaak{z.signaal_id(), *begin, {z.routes().begin(), z.routes().end()}}, *laat));
    }
  }

  for (v1::Signaal& s : res.signalen) {
    if (!uitgegeven_.insert(Vingerafdruk(s.signaal_id())).second) continue;
    if (s.soort() == v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM) {
      auto* z = state_.add_av_zaken();
      z->set_signaal_id(s.signaal_id());
      z->set_begindatum(s.begindatum());
      for (const AvZaak& nu : res.av_zaken) {
        if (nu.signaal_id != s.signaal_id()) continue;
        for (const v1::ZaakRoute& r : nu.routes) *z->add_routes() = r;
      }
    }
    nieuw.push_back(std::move(s));
  }
  state_.mutable_uitgegeven_signaal_ids()->Clear();
  for (const std::string& id : uitgegeven_) state_.add_uitgegeven_signaal_ids(id);
  state_.set_absoluut_verzuim_open(res.absoluut_verzuim_open);
  state_.set_uit_beeld(res.uit_beeld);
  state_.set_woongemeente(tijdlijn.verblijf().WoongemeenteOp(*tot));
  state_.set_wekker(FormatDate(res.volgende_dag.value_or(absl::CivilDay(2200, 12, 31))));
  SorteerSignalen(&nieuw);
  return nieuw;
}

std::optional<absl::CivilDay> Jongere::NextWakeup(const CoreConfig& config) const {
  const std::optional<absl::CivilDay> tot = EvaluatedThrough();
  if (!tot) return std::nullopt;
  const Feiten feiten = ParseFeiten(state_.feiten());
  const Tijdlijn tijdlijn(feiten, "", config);
  // Nothing is plichtig after the 18th birthday; look a little beyond it.
  absl::CivilDay horizon = *tot + 366;
  if (const auto& p = tijdlijn.plicht()) horizon = std::max(horizon, p->achttien() + 366);
  return tijdlijn.EersteSignaalDagNa(*tot, horizon);
}

StatusAnswer Jongere::Status(absl::CivilDay peildatum, const CoreConfig& config) const {
  StatusAnswer a;
  a.peildatum = peildatum;
  const Feiten feiten = ParseFeiten(state_.feiten());
  const Tijdlijn tijdlijn(feiten, "", config);
  const PlichtOordeel oordeel = tijdlijn.PlichtOp(peildatum);
  a.status = oordeel.status;
  a.regel = oordeel.regel;
  a.artikel = oordeel.artikel;
  if (const auto& p = tijdlijn.plicht()) {
    a.leerplicht_van = p->leerplicht_van();
    a.leerplicht_tot = p->leerplicht_tot();
    a.kwalificatieplicht_van = p->kwalificatieplicht_van();
    a.kwalificatieplicht_tot = p->kwalificatieplicht_tot();
  }
  a.ingeschreven = IngeschrevenOp(tijdlijn.inschrijvingen(), peildatum);
  if (!feiten.Leeg() && peildatum >= feiten.bekend_vanaf) {
    const TijdlijnResultaat res = tijdlijn.Bereken(peildatum);
    a.absoluut_verzuim = res.absoluut_verzuim_open;
    a.uit_beeld = res.uit_beeld;
  }
  return a;
}

}  // namespace inbeeld::signaling

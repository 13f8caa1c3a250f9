#include "inbeeld/signaling/core/jongere.h"

#include <algorithm>


#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/signal_ids.h"
#include "inbeeld/signaling/core/tijdlijn.h"

namespace inbeeld::signaling {
namespace {

using util::FormatDate;

void SorteerSignalen(std::vector<v1::Signaal>::iterator begin, std::vector<v1::Signaal>::iterator end) {
  std::sort(begin, end, [](const v1::Signaal& a, const v1::Signaal& b) {
    return std::tie(a.peildatum(), a.signaal_id()) < std::tie(b.peildatum(), b.signaal_id());
  });
}

// How far NextWakeup looks: nothing is plichtig after the 18th birthday;
// a little beyond it.
absl::CivilDay WekkerHorizon(const Tijdlijn& tijdlijn, absl::CivilDay tot) {
  absl::CivilDay horizon = tot + 366;
  if (const auto& p = tijdlijn.plicht()) horizon = std::max(horizon, p->achttien() + 366);
  return horizon;
}

}  // namespace

std::string Vingerafdruk(const std::string& signaal_id) { return signaal_id.substr(0, kVingerafdrukTekens); }

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
  // uitgegeven_signaal_ids holds sorted, distinct prefixes. A state of the
  // whole-id time holds whole ids: store their prefixes from now on.
  auto* ids = j.state_.mutable_uitgegeven_signaal_ids();
  bool genormaliseerd = true;
  for (int i = 0; i < ids->size() && genormaliseerd; ++i) {
    genormaliseerd = ids->Get(i).size() <= kVingerafdrukTekens && (i == 0 || ids->Get(i - 1) < ids->Get(i));
  }
  if (!genormaliseerd) {
    std::vector<std::string> prefixen;
    prefixen.reserve(static_cast<size_t>(ids->size()));
    for (const std::string& id : *ids) prefixen.push_back(Vingerafdruk(id));
    std::sort(prefixen.begin(), prefixen.end());
    prefixen.erase(std::unique(prefixen.begin(), prefixen.end()), prefixen.end());
    ids->Clear();
    for (std::string& id : prefixen) ids->Add(std::move(id));
  }
  return j;
}

bool Jongere::MarkeerUitgegeven(const std::string& signaal_id) {
  // Sorted, so that the state's bytes do not depend on the order of emission
  // (and the Status answer can binary-search them).
  const std::string_view prefix = std::string_view(signaal_id).substr(0, kVingerafdrukTekens);
  auto* ids = state_.mutable_uitgegeven_signaal_ids();
  const auto pos = std::lower_bound(ids->begin(), ids->end(), prefix,
                                    [](const std::string& id, std::string_view p) { return id < p; });
  if (pos != ids->end() && *pos == prefix) return false;
  const int at = static_cast<int>(pos - ids->begin());
  ids->Add(std::string(prefix));
  for (int i = ids->size() - 1; i > at; --i) ids->SwapElements(i, i - 1);
  return true;
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

bool Jongere::Insert(const v1::Event& event) {
  if (event.event_case() == v1::Event::EVENT_NOT_SET || !DatumVan(event).ok()) return false;
  for (const v1::Event& feit : state_.feiten()) {
    if (ZelfdeDedupSleutel(feit, event)) return false;
  }
  // Insert in canonical order.
  auto* feiten = state_.mutable_feiten();
  feiten->Add()->CopyFrom(event);
  for (int i = feiten->size() - 1; i > 0 && CanonicalLess(feiten->Get(i), feiten->Get(i - 1)); --i) {
    feiten->SwapElements(i, i - 1);
  }
  wekker_.reset();  // found for the facts before this one
  return true;
}

std::vector<v1::Signaal> Jongere::Apply(const v1::Event& event, std::string_view pseudoniem,
                                        const CoreConfig& config) {
  if (!Insert(event)) return {};
  return Herbereken(pseudoniem, config, &event);
}

bool Jongere::RecomputeEmitsNothing(const v1::Event& inserted) const {
  // No day evaluated: the evaluation ends before the first fact's day, so
  // only the melding's VERZUIMMELDING or the resolution of a stored case
  // could come out.
  return state_.geevalueerd_tot().empty() && state_.av_zaken_size() == 0 &&
         inserted.event_case() != v1::Event::kVerzuimmelding;
}

Jongere::BatchApply Jongere::ApplyInBatch(v1::Event event, std::string_view pseudoniem,
                                          const CoreConfig& config) {
  BatchApply out;
  if (uitgesteld_) {
    if (RecomputeEmitsNothing(*uitgesteld_) && Insert(event)) {
      // The previous event's recomputation would emit nothing, and every
      // field it would set is set again by this event's.
      uitgesteld_ = std::move(event);
      out.applied = true;
      return out;
    }
    out.signalen = Herbereken(pseudoniem, config, &*uitgesteld_);
    uitgesteld_.reset();
  }
  if (Insert(event)) {
    uitgesteld_ = std::move(event);
    out.applied = true;
  }
  return out;
}

std::vector<v1::Signaal> Jongere::FinishBatch(absl::CivilDay horizon, std::string_view pseudoniem,
                                              const CoreConfig& config) {
  std::vector<v1::Signaal> out;
  const std::optional<absl::CivilDay> through = EvaluatedThrough();
  if (through && *through < horizon) {
    out = AdvanceTo(horizon, pseudoniem, config, uitgesteld_ ? &*uitgesteld_ : nullptr, /*with_wakeup=*/true);
  } else if (uitgesteld_) {
    // Evaluated through the horizon already (a stored jongere's next batch on
    // the same day): the wake-up day is found by this evaluation too, so
    // NextWakeup (Stage) need not evaluate again.
    out = Herbereken(pseudoniem, config, &*uitgesteld_, std::nullopt, /*met_wekker=*/true);
  }
  uitgesteld_.reset();
  return out;
}

std::vector<v1::Signaal> Jongere::AdvanceWithWakeup(absl::CivilDay day, std::string_view pseudoniem,
                                                    const CoreConfig& config) {
  return AdvanceTo(day, pseudoniem, config, nullptr, /*with_wakeup=*/true);
}

std::vector<v1::Signaal> Jongere::AdvanceTo(absl::CivilDay day, std::string_view pseudoniem,
                                            const CoreConfig& config) {
  return AdvanceTo(day, pseudoniem, config, nullptr, /*with_wakeup=*/false);
}

std::vector<v1::Signaal> Jongere::AdvanceTo(absl::CivilDay day, std::string_view pseudoniem,
                                            const CoreConfig& config, const v1::Event* inserted,
                                            bool with_wakeup) {
  const std::optional<absl::CivilDay> huidig = EvaluatedThrough();
  if (!huidig) return {};  // no facts: nothing to evaluate
  if (inserted != nullptr) {
    // Apply's recomputation evaluates through `huidig`, this one through
    // `day`: the second repeats the first and goes on, so one evaluation
    // through `day` gives both (Herbereken keeps Apply's signals first).
    // The wekker shortcut below does not apply: it was set before the
    // inserted event.
    if (!state_.geevalueerd_tot().empty() && day <= *huidig) {
      return Herbereken(pseudoniem, config, inserted, std::nullopt, with_wakeup);
    }
    state_.set_geevalueerd_tot(FormatDate(std::max(*huidig, day)));
    return Herbereken(pseudoniem, config, inserted, *huidig, with_wakeup);
  }
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
  return Herbereken(pseudoniem, config, nullptr, std::nullopt, with_wakeup);
}

std::vector<v1::Signaal> Jongere::Herbereken(std::string_view pseudoniem, const CoreConfig& config,
                                             const v1::Event* laat, std::optional<absl::CivilDay> gesplitst_na,
                                             bool met_wekker) {
  std::vector<v1::Signaal> nieuw;
  const std::optional<absl::CivilDay> tot = EvaluatedThrough();
  if (!tot) return nieuw;
  const Feiten feiten = ParseFeiten(state_.feiten());
  // The signals emitted before are left out of the evaluation's result
  // unbuilt: the loop below would drop them (MarkeerUitgegeven).
  const Tijdlijn tijdlijn(feiten, pseudoniem, config, &state_.uitgegeven_signaal_ids());
  std::optional<absl::CivilDay> wekker;
  TijdlijnResultaat res =
      met_wekker ? tijdlijn.BerekenEnZoek(*tot, WekkerHorizon(tijdlijn, *tot), &wekker) : tijdlijn.Bereken(*tot);

  // Candidates in the order Apply and then AdvanceTo would consider them:
  // the evaluation up to `gesplitst_na`, the event's own signals, the rest.
  std::vector<v1::Signaal> kandidaten;
  size_t eerst = 0;  // kandidaten[0, eerst) are Apply's
  if (gesplitst_na) {
    const std::string grens = FormatDate(*gesplitst_na);  // "YYYY-MM-DD" sorts as the day
    std::vector<v1::Signaal> later;
    for (v1::Signaal& s : res.signalen) {
      (s.peildatum() <= grens ? kandidaten : later).push_back(std::move(s));
    }
    res.signalen = std::move(later);
  } else {
    kandidaten = std::move(res.signalen);
    res.signalen.clear();
  }

  // VERZUIMMELDING is emitted on the Apply of its melding (not delayed), so
  // only the event just applied can add one.
  if (laat != nullptr && laat->event_case() == v1::Event::kVerzuimmelding) {
    const std::string ref = RefVan(*laat);
    for (v1::Signaal& s : tijdlijn.Verzuimmeldingen(ref)) kandidaten.push_back(std::move(s));
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
  // (The cases stored were emitted up to the evaluated day, so whether one
  // is still valid does not depend on how far this evaluation went.)
  if (laat != nullptr) {
    // A jongere has a handful of cases at most: a scan, not a set per recomputation.
    const auto nog_geldig = [&res](const std::string& id) {
      return std::any_of(res.av_zaken.begin(), res.av_zaken.end(),
                         [&id](const AvZaak& z) { return z.signaal_id == id; });
    };
    for (const internal::v1::AbsoluutVerzuimZaak& z : state_.av_zaken()) {
      if (nog_geldig(z.signaal_id())) continue;
      absl::StatusOr<absl::CivilDay> begin = util::ParseDate(z.begindatum());
      if (!begin.ok()) continue;
      kandidaten.push_back(tijdlijn.OpgelostDoorLaatFeit(
          AvZaak{z.signaal_id(), *begin, {z.routes().begin(), z.routes().end()}}, *laat));
    }
  }
  eerst = kandidaten.size();
  for (v1::Signaal& s : res.signalen) kandidaten.push_back(std::move(s));

  size_t nieuw_eerst = 0;  // nieuw[0, nieuw_eerst) are Apply's
  for (size_t i = 0; i < kandidaten.size(); ++i) {
    v1::Signaal& s = kandidaten[i];
    if (i == eerst) nieuw_eerst = nieuw.size();
    if (!MarkeerUitgegeven(s.signaal_id())) continue;
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
  if (eerst == kandidaten.size()) nieuw_eerst = nieuw.size();
  state_.set_absoluut_verzuim_open(res.absoluut_verzuim_open);
  state_.set_uit_beeld(res.uit_beeld);
  state_.set_woongemeente(tijdlijn.verblijf().WoongemeenteOp(*tot));
  state_.set_wekker(FormatDate(res.volgende_dag.value_or(absl::CivilDay(2200, 12, 31))));
  if (met_wekker) {
    wekker_ = Wekker{*tot, wekker};
  }
  if (gesplitst_na) {
    // Apply's signals, then AdvanceTo's, each sorted as they would be.
    SorteerSignalen(nieuw.begin(), nieuw.begin() + static_cast<std::ptrdiff_t>(nieuw_eerst));
    SorteerSignalen(nieuw.begin() + static_cast<std::ptrdiff_t>(nieuw_eerst), nieuw.end());
  } else {
    SorteerSignalen(nieuw.begin(), nieuw.end());
  }
  return nieuw;
}

std::optional<absl::CivilDay> Jongere::NextWakeup(const CoreConfig& config) const {
  const std::optional<absl::CivilDay> tot = EvaluatedThrough();
  if (!tot) return std::nullopt;
  if (wekker_ && wekker_->geevalueerd_tot == *tot) return wekker_->dag;
  const Feiten feiten = ParseFeiten(state_.feiten());
  const Tijdlijn tijdlijn(feiten, "", config);
  return tijdlijn.EersteSignaalDagNa(*tot, WekkerHorizon(tijdlijn, *tot));
}

std::optional<std::optional<absl::CivilDay>> Jongere::WekkerInIndex() const {
  if (!state_.has_wekker_in_index()) return std::nullopt;
  if (state_.wekker_in_index().empty()) return std::optional<absl::CivilDay>();
  absl::StatusOr<absl::CivilDay> dag = util::ParseDate(state_.wekker_in_index());
  if (!dag.ok()) return std::nullopt;  // not a day: as not recorded
  return std::optional<absl::CivilDay>(*dag);
}

void Jongere::SetWekkerInIndex(std::optional<absl::CivilDay> dag) {
  state_.set_wekker_in_index(dag ? FormatDate(*dag) : "");
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

#pragma once
// The per-jongere timeline: from the stored facts, evaluates the end of every
// relevant day (jumping between days on which anything can change) and yields
// the signals of DOMAIN.md §6 in date order. Pure: the same facts and horizon
// always give the same signals with the same ids.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "inbeeld/v1/signaal.pb.h"
#include "inbeeld/signaling/core/config.h"
#include "inbeeld/signaling/core/inschrijving.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/plicht.h"
#include "inbeeld/signaling/core/verblijf.h"

namespace inbeeld::signaling {

// An emitted ABSOLUUT_VERZUIM case.
struct AvZaak {
  std::string signaal_id;
  absl::CivilDay begindatum;
  // How its signals were routed so far (opening, OVERDRACHT): see
  // MarkeerZaak.
  std::vector<v1::ZaakRoute> routes;
};

// Marks `signaal` as closing or continuing the case opened by `zaak_signaal_id`
// whose signals were routed by `routes`: routing then sends it to every
// organisation that holds the case (DOMAIN.md §6 "Routing of signals"). Every
// …_OPGELOST, WEER_IN_BEELD or ABSOLUUT_VERZUIM_LANGDURIG goes through this.
void MarkeerZaak(std::string_view zaak_signaal_id, const std::vector<v1::ZaakRoute>& routes,
                 v1::Signaal* signaal);

struct TijdlijnResultaat {
  std::vector<v1::Signaal> signalen;  // excluding VERZUIMMELDING
  std::vector<AvZaak> av_zaken;       // every ABSOLUUT_VERZUIM in `signalen`
  // Situation at the end of the horizon.
  bool absoluut_verzuim_open = false;
  bool uit_beeld = false;
  bool lrv_open = false;
  // The first day after the horizon on which anything may change (a fact's
  // date, a boundary, a timer); nullopt = never (e.g. after death). Days
  // before it need no evaluation: the service's daily tick skips them.
  std::optional<absl::CivilDay> volgende_dag;
};

class Tijdlijn {
 public:
  // `feiten` must outlive the Tijdlijn.
  // `uitgegeven`: the sorted Vingerafdrukken of the signals already emitted
  // (JongereState.uitgegeven_signaal_ids), or nullptr. Bereken and
  // BerekenEnZoek then leave those signals out of `signalen` without building
  // them: a recomputation passes every earlier day again, and its caller
  // would drop them anyway. Their effect on the cases (av_zaken, routes) and
  // on the timers stays.
  Tijdlijn(const Feiten& feiten, std::string_view pseudoniem, const CoreConfig& config,
           const google::protobuf::RepeatedPtrField<std::string>* uitgegeven = nullptr);

  // Evaluates the end of each day from the day the jongere became known up to
  // and including `tot_en_met`. `elke_dag` evaluates every single day instead
  // of jumping (tests prove both give the same result).
  TijdlijnResultaat Bereken(absl::CivilDay tot_en_met, bool elke_dag = false) const;

  // The earliest peildatum after `na` of a signal that Bereken(horizon) would
  // emit (nullopt: none), without building the signals after it: the
  // evaluation stops at that day.
  std::optional<absl::CivilDay> EersteSignaalDagNa(absl::CivilDay na, absl::CivilDay horizon) const;

  // Both in one evaluation: Bereken(tot_en_met), and in `eerste_signaal_dag`
  // EersteSignaalDagNa(tot_en_met, horizon) (the evaluation goes on past
  // tot_en_met without collecting).
  TijdlijnResultaat BerekenEnZoek(absl::CivilDay tot_en_met, absl::CivilDay horizon,
                                  std::optional<absl::CivilDay>* eerste_signaal_dag) const;

  // VERZUIMMELDING for every melding (emitted on Apply, not delayed), except
  // meldingen dated on or after death.
  // `alleen_ref`: only the melding with that event ref (the one just applied),
  // the others are not built at all.
  std::vector<v1::Signaal> Verzuimmeldingen(std::optional<std::string_view> alleen_ref = std::nullopt) const;

  // OPGELOST for an emitted case that a late event removed entirely:
  // peildatum = the late event's date clamped to >= S, reason from the event.
  v1::Signaal OpgelostDoorLaatFeit(const AvZaak& zaak, const v1::Event& laat) const;

  const std::optional<Plicht>& plicht() const { return plicht_; }
  const Verblijf& verblijf() const { return verblijf_; }
  const std::vector<Inschrijving>& inschrijvingen() const { return inschrijvingen_; }
  PlichtOordeel PlichtOp(absl::CivilDay day) const;

 private:
  // What EersteSignaalDagNa looks for while the days are evaluated.
  struct EersteNa {
    absl::CivilDay na;
    std::optional<absl::CivilDay> dag;
    // BerekenEnZoek: up to `na` the evaluation collects as Bereken(na) does.
    bool verzamel_tot_na = false;
  };
  // Bereken; with `zoek`, signals (after zoek->na when verzamel_tot_na) are
  // not collected and the evaluation stops after the earliest signal day
  // found.
  TijdlijnResultaat Doorloop(absl::CivilDay tot_en_met, bool elke_dag, EersteNa* zoek) const;
  // True when the signal with this id was emitted before (`uitgegeven`).
  bool Bekend(std::string_view signaal_id) const;
  // The route inputs (woongemeente, peildatum, achttien_plus) of a signal
  // dated `day`, without building the signal.
  v1::ZaakRoute RouteOp(absl::CivilDay day) const;
  v1::Signaal Basis(v1::SignaalSoort soort, absl::CivilDay day, std::string regel, std::string artikel,
                    std::vector<std::string> oorzaak) const;
  v1::Signaal Opgelost(const AvZaak& zaak, absl::CivilDay day, v1::OplosReden reden,
                       std::vector<std::string> oorzaak) const;
  std::string AvArtikelVan(const AvZaak& zaak) const;
  std::string OpgelostId(const AvZaak& zaak) const;
  std::string LangdurigId(const AvZaak& zaak) const;
  // ABSOLUUT_VERZUIM_LANGDURIG for `zaak` on `day` (langdurig.cc).
  v1::Signaal Langdurig(const AvZaak& zaak, absl::CivilDay day, std::vector<std::string> oorzaak) const;
  // VRIJSTELLING_LOOPT_AF due at the end of `day` (vrijstelling_loopt_af.cc).
  // Calls `emit` for every VRIJSTELLING_LOOPT_AF of `day`: with its id, and a
  // function that builds the signal (called only when `emit` wants it).
  void VrijstellingenLopenAf(absl::CivilDay day, BrpStatus brp,
                             absl::FunctionRef<void(const std::string& id, absl::FunctionRef<v1::Signaal()> bouw)>
                                 emit) const;

  const Feiten& feiten_;
  std::string pseudoniem_;
  CoreConfig config_;
  std::vector<Inschrijving> inschrijvingen_;
  std::optional<Plicht> plicht_;  // nullopt without a geboortedatum
  Verblijf verblijf_;
  const google::protobuf::RepeatedPtrField<std::string>* uitgegeven_;
  // LooptAfDatum of each of feiten_.vrijstellingen, found once instead of on
  // every day evaluated.
  std::vector<std::optional<absl::CivilDay>> loopt_af_;
};

}  // namespace inbeeld::signaling

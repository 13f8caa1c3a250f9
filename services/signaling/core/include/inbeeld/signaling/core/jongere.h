#pragma once
// The state of one jongere and the entry point of the signaling core.
//
// Design (DOMAIN.md §6 "Determinism"): the Jongere stores the facts (events),
// the ids of the signals it already emitted and the last evaluated day. Every
// Apply/AdvanceTo recomputes the timeline from the facts (Tijdlijn) and emits
// the signals whose ids were not emitted before. So the same set of events
// gives the same signals with the same ids whatever the arrival order within a
// day and whatever the batching.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "inbeeld/internal/v1/state.pb.h"
#include "inbeeld/v1/events.pb.h"
#include "inbeeld/v1/leerplicht_service.pb.h"
#include "inbeeld/v1/signaal.pb.h"
#include "inbeeld/signaling/core/config.h"

namespace inbeeld::signaling {

// Answer for LeerplichtService.Status.
struct StatusAnswer {
  v1::Plichtstatus status = v1::PLICHTSTATUS_UNSPECIFIED;
  std::string regel;
  std::string artikel;
  absl::CivilDay peildatum;
  std::optional<absl::CivilDay> leerplicht_van;
  std::optional<absl::CivilDay> leerplicht_tot;
  std::optional<absl::CivilDay> kwalificatieplicht_van;
  std::optional<absl::CivilDay> kwalificatieplicht_tot;
  bool ingeschreven = false;
  bool absoluut_verzuim = false;
  bool uit_beeld = false;

  v1::StatusResponse ToProto() const;
};

// How an emitted signal is remembered in JongereState.uitgegeven_signaal_ids:
// the first 64 bits (16 hex characters) of its signaal_id.
std::string Vingerafdruk(const std::string& signaal_id);

class Jongere {
 public:
  Jongere() = default;
  // By value: a caller that is done with its state moves it in (no copy).
  static Jongere FromState(internal::v1::JongereState state);
  internal::v1::JongereState ToState() const { return state_; }
  const internal::v1::JongereState& state() const { return state_; }

  // Applies an event. Returns the signals to emit now: VERZUIMMELDING
  // immediately; other signals only for days <= EvaluatedThrough(). An event
  // whose (bron, id) was applied before (or whose date does not parse)
  // changes nothing and returns nothing.
  std::vector<v1::Signaal> Apply(const v1::Event& event, std::string_view pseudoniem,
                                 const CoreConfig& config);
  // Evaluates the end of every day up to and including `day` (timers fire).
  // Returns the new signals (sorted by peildatum, signaal_id).
  std::vector<v1::Signaal> AdvanceTo(absl::CivilDay day, std::string_view pseudoniem,
                                     const CoreConfig& config);

  // The service's batch: every event of a batch applied, then one advance
  // to the horizon. The same signals in the same order and the same state as
  // Apply for each event, then AdvanceTo(horizon) if EvaluatedThrough() <
  // horizon, then NextWakeup; with less work: the last event's
  // recomputation is folded into the advance (one evaluation instead of
  // two), one whose signals are known to be none is left out (the next
  // recomputes everything it would have set), and NextWakeup is found by the
  // advance's evaluation. Until FinishBatch the state may lag behind
  // (state() is not to be read in between).
  struct BatchApply {
    bool applied = false;                  // false: a repeat, or a date that does not parse
    std::vector<v1::Signaal> signalen;     // due now: those of the previous event
  };
  // Takes the event by value: the service moves its decoded event in, which
  // the batch keeps until the recomputation (a copy per event was a few
  // percent of signaling's CPU).
  BatchApply ApplyInBatch(v1::Event event, std::string_view pseudoniem, const CoreConfig& config);
  std::vector<v1::Signaal> FinishBatch(absl::CivilDay horizon, std::string_view pseudoniem,
                                       const CoreConfig& config);
  // AdvanceTo for a timer: NextWakeup is found by the same evaluation (it
  // goes on past `day` instead of starting over).
  std::vector<v1::Signaal> AdvanceWithWakeup(absl::CivilDay day, std::string_view pseudoniem,
                                             const CoreConfig& config);

  // Earliest day > EvaluatedThrough() on which a signal may be emitted
  // (nullopt: nothing pending).
  std::optional<absl::CivilDay> NextWakeup(const CoreConfig& config) const;
  // The day of the jongere's entry in the service's wake-up index as the
  // service recorded it in the state (JongereState.wekker_in_index; the inner
  // nullopt: no entry), or nullopt when the state does not record it (or
  // records something that is not a day). The service records it with every
  // write of the entry (SetWekkerInIndex, then the state): its next batch of
  // this jongere then need not evaluate the stored timeline to find the entry
  // it moves.
  std::optional<std::optional<absl::CivilDay>> WekkerInIndex() const;
  void SetWekkerInIndex(std::optional<absl::CivilDay> dag);

  // Obligation status on `peildatum` with rule and article, and the open
  // situations at the end of that day.
  StatusAnswer Status(absl::CivilDay peildatum, const CoreConfig& config = CoreConfig()) const;

  // Situation at the end of EvaluatedThrough().
  bool HasOpenAbsoluutVerzuim() const { return state_.absoluut_verzuim_open(); }
  bool IsUitBeeld() const { return state_.uit_beeld(); }
  std::string Woongemeente() const {
    return state_.woongemeente().empty() ? "0000" : state_.woongemeente();
  }

  // Last evaluated day: set by AdvanceTo; before that the day before the
  // earliest event (nullopt without events).
  std::optional<absl::CivilDay> EvaluatedThrough() const;
  bool Empty() const { return state_.feiten_size() == 0; }
  size_t EventCount() const { return static_cast<size_t>(state_.feiten_size()); }

 private:
  // Apply's first half: false when the event changes nothing.
  bool Insert(const v1::Event& event);
  // Records an emitted signal's id (its Vingerafdruk) in the state; false
  // when it was emitted before.
  bool MarkeerUitgegeven(const std::string& signaal_id);
  // True when Herbereken(laat = inserted) is known to emit nothing without
  // evaluating: no day evaluated yet, no case stored, not a melding.
  bool RecomputeEmitsNothing(const v1::Event& inserted) const;
  // `inserted`: the event of the last Insert, not yet recomputed after:
  // its recomputation is folded into this one. `with_wakeup`: NextWakeup
  // found in the same evaluation.
  std::vector<v1::Signaal> AdvanceTo(absl::CivilDay day, std::string_view pseudoniem, const CoreConfig& config,
                                     const v1::Event* inserted, bool with_wakeup);
  // Recomputes and emits what is new. `laat` is the event just applied (for
  // cases it removed retroactively), or nullptr.
  // `gesplitst_na`: Apply's recomputation folded into AdvanceTo's; the
  // signals up to that day (and those of `laat`) are Apply's, sorted apart
  // from the later ones. `met_wekker`: NextWakeup found in the same
  // evaluation.
  std::vector<v1::Signaal> Herbereken(std::string_view pseudoniem, const CoreConfig& config,
                                      const v1::Event* laat,
                                      std::optional<absl::CivilDay> gesplitst_na = std::nullopt,
                                      bool met_wekker = false);

  // NextWakeup as found by the last evaluation with met_wekker, valid while
  // the facts and EvaluatedThrough() are what they were then.
  struct Wekker {
    absl::CivilDay geevalueerd_tot;
    std::optional<absl::CivilDay> dag;
  };

  internal::v1::JongereState state_;
  std::optional<Wekker> wekker_;
  // ApplyInBatch: the last event inserted, its recomputation still to come.
  std::optional<v1::Event> uitgesteld_;
  // No sets beside the state: which events and signals the jongere has seen
  // is looked up in state_ itself (its feiten, and its uitgegeven_signaal_ids
  // kept sorted). A jongere has tens of each at most, and a set per jongere
  // per batch cost more to build and free than the lookups it saved.
};

}  // namespace inbeeld::signaling

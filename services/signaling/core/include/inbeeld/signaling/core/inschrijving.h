#pragma once
// Enrolment intervals from in- and uitschrijvingsmutaties (DOMAIN.md §6
// conventions; DUO ROD semantics).
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "inbeeld/v1/events.pb.h"
#include "inbeeld/signaling/core/feiten.h"

namespace inbeeld::signaling {

struct Inschrijving {
  // First enrolled day; nullopt = unknown (first known through an
  // uitschrijving: counts as enrolled since before age 4).
  std::optional<absl::CivilDay> van;
  // Last enrolled day; nullopt = still open.
  std::optional<absl::CivilDay> tot;
  std::string brin;
  v1::Onderwijssoort onderwijssoort = v1::ONDERWIJSSOORT_UNSPECIFIED;
  // The uitschrijving that closed it (when closed).
  const v1::InschrijvingsMutatie* uitschrijving = nullptr;

  bool ActiefOp(absl::CivilDay day) const {
    return (!van.has_value() || *van <= day) && (!tot.has_value() || day <= *tot);
  }
};

// Builds the enrolments. Rules (DOMAIN.md §6):
// - inschrijving ingangsdatum = first enrolled day (future-dated: not active
//   before it);
// - uitschrijving ingangsdatum = last enrolled day; it closes the
//   earliest-started open enrolment at the same BRIN that started before
//   its date, else one at that BRIN starting on its date (enrolled exactly
//   that day), else it stands for an enrolment with unknown start; an
//   enrolment at another BRIN is never closed (a same-date in- and
//   uitschrijving at two schools is a switch);
// - mutaties are processed by date; on one date inschrijvingen first, so a
//   same-day re-enrolment at one BRIN is not the one closed;
// - ho counts as an enrolment; several concurrent enrolments are possible.
// `meldingen` (by date) imply an enrolment at the reporting school when the
// mutaties know nothing of that school (see inschrijving.cc).
std::vector<Inschrijving> BouwInschrijvingen(const std::vector<MutatieFeit>& mutaties,
                                             const std::vector<MeldingFeit>& meldingen = {});

bool IngeschrevenOp(const std::vector<Inschrijving>& inschrijvingen, absl::CivilDay day);

}  // namespace inbeeld::signaling

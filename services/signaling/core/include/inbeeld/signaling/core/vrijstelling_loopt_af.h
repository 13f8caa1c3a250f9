#pragma once
// VRIJSTELLING_LOOPT_AF (DOMAIN.md §6): a vrijstelling van inschrijving
// (art. 5, 5a, 15) with an end date ends while the jongere is still plichtig
// and has nothing to go to. Dated (tot + 1) - 56, 8 weeks before the first day
// without the vrijstelling, but not before the vrijstelling's own van; emitted
// when at the end of that day the jongere is resident, will be plichtig on
// tot + 1, and has no inschrijving active on tot + 1 (an enrolment starting by
// then counts) and no other vrijstelling covering tot + 1. Once per
// vrijstelling. Those leaving a vrijstelling 5 onder a are the hardest to get
// back to school: this gives the organisation 8 weeks.
#include <optional>
#include <vector>

#include "absl/time/civil_time.h"
#include "inbeeld/signaling/core/config.h"
#include "inbeeld/signaling/core/feiten.h"

namespace inbeeld::signaling {

// The day the rule is evaluated for `v`; nullopt for an open-ended one.
std::optional<absl::CivilDay> LooptAfDatum(const VrijstellingFeit& v, const CoreConfig& config);

// Adds every vrijstelling's LooptAfDatum (the timeline's day jumps).
void VoegLooptAfDagenToe(const std::vector<VrijstellingFeit>& vrijstellingen, const CoreConfig& config,
                         std::vector<absl::CivilDay>* dagen);

}  // namespace inbeeld::signaling

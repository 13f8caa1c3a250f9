#pragma once
// ABSOLUUT_VERZUIM_LANGDURIG (DOMAIN.md §6): an absoluut verzuim that has
// lasted 13 weeks, the thuiszitter who needs escalation. Dated S + 91 (S = the
// case's begindatum) when the case is still open at the end of that day; once
// per case. Art. 25 (leerplichttelling) counts "langer dan 3 maanden".
#include "absl/time/civil_time.h"
#include "inbeeld/signaling/core/config.h"

namespace inbeeld::signaling {

// The day the signal is due for a case starting on `begindatum`.
inline absl::CivilDay LangdurigDatum(absl::CivilDay begindatum, const CoreConfig& config) {
  return begindatum + config.langdurig_days;
}

}  // namespace inbeeld::signaling

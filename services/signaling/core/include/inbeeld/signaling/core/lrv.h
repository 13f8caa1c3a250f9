#pragma once
// Langdurig relatief verzuim from 16-uur meldingen (DOMAIN.md §1, §6;
// Leerplichtwet 1969 art. 21, Besluit verzuimmelding).
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "inbeeld/signaling/core/feiten.h"

namespace inbeeld::signaling {

// Do the 16-uur meldingen known on `day` (meldingsdatum <= day) with
// begindatum after `na` form a chain without a gap (next begin <= previous
// end + 1; a missing einddatum counts as up to the meldingsdatum) covering
// more than `lrv_days` days, complete on or before `day` (chain begin +
// lrv_days <= day)? On true, `refs` gets the chain's meldingen.
// The LRV signal fires on the first such day, which is
// max(meldingsdatum of the completing melding, chain begin + lrv_days).
bool LrvKetenVoltooid(const std::vector<MeldingFeit>& meldingen, absl::CivilDay day,
                      std::optional<absl::CivilDay> na, int lrv_days, std::vector<std::string>* refs);

}  // namespace inbeeld::signaling

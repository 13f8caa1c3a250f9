#pragma once
// The leerplichttelling (Leerplichtwet 1969 art. 25; DOMAIN.md §8): what one
// jongere contributes to each figure of a school year, computed from the same
// timeline that emits the signals, so the same events always give the same
// telling. Aggregation over jongeren, gemeenten and organisations is in
// services/signaling/telling.
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "inbeeld/signaling/core/config.h"
#include "inbeeld/signaling/core/feiten.h"

namespace inbeeld::signaling {

// A school year 1 August – 31 July (WPO art. 1), written "2025-2026".
struct Schooljaar {
  int begin_jaar = 0;

  // "YYYY-YYYY" with consecutive years; INVALID_ARGUMENT otherwise.
  static absl::StatusOr<Schooljaar> Parse(std::string_view text);
  absl::CivilDay van() const { return absl::CivilDay(begin_jaar, 8, 1); }
  absl::CivilDay tot() const { return absl::CivilDay(begin_jaar + 1, 7, 31); }
  std::string Naam() const;
};

// Every column of the telling, in output order (docs/TELLING.md defines them).
const std::vector<std::string>& TellingKolommen();

// "The jongere counts in `kolom` for `gemeente`" (the woongemeente of the
// signal on its peildatum, as the signal carries it; not yet mapped through
// herindelingen).
struct TellingTelling {
  std::string kolom;
  std::string gemeente;
  absl::CivilDay peildatum;
};

// What one jongere contributes to the telling of `jaar`, evaluated through
// `tot_en_met` (clamped to 31 July; for a running year the open-at-31-July
// figures are then "open at the end of tot_en_met"). May repeat a (kolom,
// gemeente): the aggregation counts each jongere once per figure per gemeente.
std::vector<TellingTelling> TellingBijdrage(const Feiten& feiten, std::string_view pseudoniem,
                                            const CoreConfig& config, const Schooljaar& jaar,
                                            absl::CivilDay tot_en_met);

}  // namespace inbeeld::signaling

#pragma once
// Jongere::NextWakeup as it was computed before it stopped at the first signal
// day: every signal of the whole evaluation up to the horizon, then the
// earliest peildatum after the evaluated day. The reference of
// shortcuts_test.cc and the baseline of signaling_core_bench.
#include <algorithm>
#include <optional>

#include "absl/time/civil_time.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"
#include "inbeeld/signaling/core/tijdlijn.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::signaling::testing {

inline std::optional<absl::CivilDay> VolledigeWakeup(const Jongere& j, const CoreConfig& config) {
  const std::optional<absl::CivilDay> tot = j.EvaluatedThrough();
  if (!tot) return std::nullopt;
  const Feiten feiten = ParseFeiten(j.state().feiten());
  const Tijdlijn tijdlijn(feiten, "", config);
  absl::CivilDay horizon = *tot + 366;
  if (const auto& p = tijdlijn.plicht()) horizon = std::max(horizon, p->achttien() + 366);
  std::optional<absl::CivilDay> eerste;
  for (const v1::Signaal& s : tijdlijn.Bereken(horizon).signalen) {
    const absl::CivilDay d = *util::ParseDate(s.peildatum());
    if (d > *tot && (!eerste || d < *eerste)) eerste = d;
  }
  return eerste;
}

}  // namespace inbeeld::signaling::testing

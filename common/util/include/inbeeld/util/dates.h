#pragma once
// Dates are absl::CivilDay end to end; strings only at the edges.
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace inbeeld::util {

// Parses a strict ISO-8601 calendar date "YYYY-MM-DD" (a real day: no
// 2023-02-29, no 2023-13-01, years 1900–2200).
absl::StatusOr<absl::CivilDay> ParseDate(std::string_view text);

// "YYYY-MM-DD".
std::string FormatDate(absl::CivilDay day);

// The UTC calendar date of now (live mode). Europe/Amsterdam differs by at most
// a couple of hours; a tick on dates absorbs that.
absl::CivilDay TodayUtc();

}  // namespace inbeeld::util

#pragma once
// Synthetic verzuimmeldingen for the operations tests: one per jongere, each
// valid and each producing exactly one VERZUIMMELDING signal.
#include <string>

#include "absl/time/civil_time.h"
#include "inbeeld/v1/events.pb.h"

namespace inbeeld::ops_test {

// A valid VerzuimMelding for jongere `seed` (SyntheticBsn(seed)), reported
// on `today`; `id_prefix` keeps melding ids of different runs apart.
v1::VerzuimMelding TestMelding(int seed, absl::CivilDay today, const std::string& id_prefix);

}  // namespace inbeeld::ops_test

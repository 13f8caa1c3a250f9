#include "inbeeld/util/clock.h"

namespace inbeeld::util {

absl::CivilDay Clock::Today() const { return absl::ToCivilDay(Now(), absl::UTCTimeZone()); }

}  // namespace inbeeld::util

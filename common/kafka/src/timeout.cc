#include <climits>

#include "inbeeld/kafka/kafka.h"

namespace inbeeld::kafka {

int TimeoutMs(absl::Duration wait) {
  if (wait == absl::InfiniteDuration()) return -1;  // RD_POLL_INFINITE
  if (wait <= absl::ZeroDuration()) return 0;       // RD_POLL_NOWAIT: never -1 by truncation
  const int64_t ms = absl::ToInt64Milliseconds(wait);
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace inbeeld::kafka

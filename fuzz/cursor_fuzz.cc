// The subscription cursor a client sends to delivery (SignaalService.Subscribe):
// decoding must never crash, and an accepted cursor encodes back to a cursor
// that decodes to the same positions.
#include <cstdlib>

#include "fuzz/fuzz_input.h"
#include "inbeeld/delivery/cursor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  absl::StatusOr<delivery::Cursor> cursor = delivery::DecodeCursor(fuzz::AsView(data, size));
  if (!cursor.ok()) return 0;
  absl::StatusOr<delivery::Cursor> again = delivery::DecodeCursor(delivery::EncodeCursor(*cursor));
  if (!again.ok() || !(*again == *cursor)) std::abort();
  return 0;
}

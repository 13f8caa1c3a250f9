#include "inbeeld/util/hex.h"

namespace inbeeld::util {

std::optional<std::pair<uint64_t, uint64_t>> LowerHex128(std::string_view digits) {
  if (digits.size() != 32) return std::nullopt;
  uint64_t half[2] = {0, 0};
  for (size_t i = 0; i < 32; ++i) {
    const char c = digits[i];
    uint64_t v = 0;
    if (c >= '0' && c <= '9') {
      v = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    half[i / 16] = half[i / 16] << 4 | v;
  }
  return std::make_pair(half[0], half[1]);
}

}  // namespace inbeeld::util

#include "inbeeld/util/hex.h"

#include <array>

namespace inbeeld::util {
namespace {

// The value of each lowercase hex digit, 0xff for every other byte: one load
// per digit instead of two range checks, whose branch is mispredicted about
// every other digit of a random id (ingest reads each event's id this way,
// routing each signal's).
constexpr std::array<uint8_t, 256> kDigitValue = [] {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xff;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] = static_cast<uint8_t>(c - 'a' + 10);
  return t;
}();

// 16 digits as 64 bits; false when one is not a lowercase hex digit.
bool Half(const char* digits, uint64_t* out) {
  uint64_t v = 0;
  uint8_t bad = 0;
  for (int i = 0; i < 16; ++i) {
    const uint8_t d = kDigitValue[static_cast<unsigned char>(digits[i])];
    bad |= d;  // 0xff has the high bit, no digit value does
    v = v << 4 | (d & 0x0f);
  }
  *out = v;
  return (bad & 0x80) == 0;
}

}  // namespace

std::optional<std::pair<uint64_t, uint64_t>> LowerHex128(std::string_view digits) {
  if (digits.size() != 32) return std::nullopt;
  uint64_t high = 0, low = 0;
  if (!Half(digits.data(), &high) || !Half(digits.data() + 16, &low)) return std::nullopt;
  return std::make_pair(high, low);
}

}  // namespace inbeeld::util

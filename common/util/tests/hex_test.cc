#include "inbeeld/util/hex.h"

#include "gtest/gtest.h"

namespace inbeeld::util {
namespace {

TEST(LowerHex128Test, ThirtyTwoLowercaseDigitsAreTheirBits) {
  EXPECT_EQ(LowerHex128("0123456789abcdef0011223344556677"),
            std::make_pair(uint64_t{0x0123456789abcdef}, uint64_t{0x0011223344556677}));
  EXPECT_EQ(LowerHex128("ffffffffffffffff0000000000000000"),
            std::make_pair(~uint64_t{0}, uint64_t{0}));
}

TEST(LowerHex128Test, AnythingElseIsNotAnId) {
  for (std::string_view s : {"", "0123456789abcdef001122334455667", "0123456789abcdef00112233445566778",
                             "0123456789ABCDEF0011223344556677", "0123456789abcdef001122334455667g",
                             "0123456789abcdef 011223344556677"}) {
    EXPECT_EQ(LowerHex128(s), std::nullopt) << s;
  }
}

TEST(LowerHex128Test, EveryByteThatIsNoLowercaseDigitFailsInEitherHalf) {
  const std::string valid = "0123456789abcdef0011223344556677";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    for (size_t at : {size_t{0}, size_t{15}, size_t{16}, size_t{31}}) {
      std::string s = valid;
      s[at] = c;
      EXPECT_EQ(LowerHex128(s).has_value(), digit) << "byte " << b << " at " << at;
    }
  }
}

}  // namespace
}  // namespace inbeeld::util

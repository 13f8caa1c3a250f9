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

}  // namespace
}  // namespace inbeeld::util

#include "inbeeld/util/allocator.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace inbeeld::util {
namespace {

using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

// INBEELD_EXPECTED_ALLOCATOR is what CMakeLists.txt chose for this build: "jemalloc" outside the sanitizer
// builds, "libc" under them (where ASan's malloc replaces both). A binary meant to run on jemalloc that does
// not (the library dropped by the linker, or loaded after the C library) fails here.
TEST(AllocatorTest, TheProcessRunsOnTheAllocatorTheBuildChose) {
  if (std::string(INBEELD_EXPECTED_ALLOCATOR) == "jemalloc") {
    EXPECT_THAT(AllocatorName(), MatchesRegex("jemalloc [0-9]+\\.[0-9]+\\.[0-9]+.*"));
  } else {
    EXPECT_THAT(AllocatorName(), Not(StartsWith("jemalloc")));
  }
}

}  // namespace
}  // namespace inbeeld::util

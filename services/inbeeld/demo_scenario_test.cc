#include "demo_scenario.h"

#include <set>

#include "gtest/gtest.h"
#include "inbeeld/identity/validation.h"

namespace inbeeld::cli {
namespace {

TEST(DemoScenarioTest, SyntheticBsnsAreValidAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 500; ++i) {
    std::string bsn = SyntheticBsn(i);
    EXPECT_TRUE(identity::IsValidBsn(bsn)) << i;
    seen.insert(bsn);
  }
  EXPECT_EQ(seen.size(), 500u);
}

TEST(DemoScenarioTest, EveryDemoEventIsValid) {
  for (const auto& step : DemoScenario(absl::CivilDay(2026, 11, 28))) {
    EXPECT_TRUE(identity::Validate(step.event).empty())
        << step.description << ": " << identity::Describe(identity::Validate(step.event));
  }
}

}  // namespace
}  // namespace inbeeld::cli

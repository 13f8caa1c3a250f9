#include "inbeeld/cli/demo_scenario.h"

#include <map>
#include <set>

#include "gtest/gtest.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"

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

// The demo shows each kind of signal, the two escalations included, within
// its dates (the pipeline evaluates through yesterday).
TEST(DemoScenarioTest, ShowsEverySignalKind) {
  const absl::CivilDay today(2026, 11, 28);
  std::map<std::string, std::vector<v1::Event>> per_jongere;
  for (const auto& step : DemoScenario(today)) {
    per_jongere[signaling::LeerlingVan(step.event)->bsn()].push_back(step.event);
  }
  std::set<std::string> soorten;
  const signaling::CoreConfig config;
  for (auto& [bsn, events] : per_jongere) {
    signaling::Jongere j;
    for (const v1::Event& e : events) {
      for (const v1::Signaal& s : j.Apply(e, bsn, config)) soorten.insert(v1::SignaalSoort_Name(s.soort()));
    }
    for (const v1::Signaal& s : j.AdvanceTo(today - 1, bsn, config)) soorten.insert(v1::SignaalSoort_Name(s.soort()));
  }
  for (const char* soort : {"SIGNAAL_SOORT_VERZUIMMELDING", "SIGNAAL_SOORT_ABSOLUUT_VERZUIM",
                            "SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST", "SIGNAAL_SOORT_UIT_BEELD",
                            "SIGNAAL_SOORT_OVERDRACHT", "SIGNAAL_SOORT_ABSOLUUT_VERZUIM_LANGDURIG",
                            "SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF"}) {
    EXPECT_TRUE(soorten.contains(soort)) << soort;
  }
}

}  // namespace
}  // namespace inbeeld::cli

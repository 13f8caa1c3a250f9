// Property test of issue 8 over a generated population (bench/common/
// routing_population.h; the properties in bench/common/routing_properties.h):
// the core as `inbeeld replay` runs it, then RouteSignaal with the default
// table. A short size here; `routing_property_bench --jongeren N` runs any
// size (docs/PERFORMANCE.md "Routing properties").
#include <random>
#include <string>

#include "bench/common/routing_population.h"
#include "bench/common/routing_properties.h"
#include "gtest/gtest.h"

namespace inbeeld::signaling {
namespace {

const std::string kConfig = std::string(INBEELD_SOURCE_DIR) + "/deploy/config";

TEST(RoutingPropertyTest, EverySignalReachesAnOrganisationThatCanAct) {
  auto tabel = routing::OrganisatieTabel::Load(kConfig + "/organisaties.csv", kConfig + "/herindelingen.csv");
  ASSERT_TRUE(tabel.ok()) << tabel.status();
  std::mt19937 rng(8);
  bench::RoutingTelling t;
  for (int i = 0; i < 3000; ++i) {
    const std::string nr = std::to_string(100000000 + i);
    t.Tel(bench::ControleerRouting(bench::RoutingJongere(nr, rng), "p" + nr, *tabel));
  }
  // The population exercises what the properties are about.
  EXPECT_GT(t.overdrachten, 50);
  EXPECT_GT(t.sluitingen, 200);
  // (i) no signal to "onbekend" when an event named a gemeente the table knows
  EXPECT_EQ(t.onbekend_met_gemeente, 0);
  // (ii) every closing signal reaches every organisation of its case
  EXPECT_EQ(t.sluiting_mist_organisatie, 0);
  // (iii) no OVERDRACHT to or from 0000, 0998, 1999
  EXPECT_EQ(t.overdracht_bijzondere_code, 0);
  EXPECT_EQ(t.route_fouten, 0);
}

}  // namespace
}  // namespace inbeeld::signaling

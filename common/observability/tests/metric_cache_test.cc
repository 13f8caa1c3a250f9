#include "inbeeld/observability/metric_cache.h"

#include <gtest/gtest.h>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace inbeeld::observability {
namespace {

TEST(MetricCacheTest, SameLabelsGiveTheFamilysOneMetric) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildCounter().Name("t_total").Help("t").Register(registry);
  MetricCache<prometheus::Counter, 1> cache(family, {"kind"});
  cache.Get("a").Increment();
  cache.Get(std::string("a")).Increment(2);
  cache.Get("b").Increment();
  EXPECT_EQ(family.Add({{"kind", "a"}}).Value(), 3);
  EXPECT_EQ(family.Add({{"kind", "b"}}).Value(), 1);
  EXPECT_EQ(&cache.Get("a"), &family.Add({{"kind", "a"}}));
}

TEST(MetricCacheTest, ValuesOfSeveralLabelsDoNotRunTogether) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildGauge().Name("g").Help("g").Register(registry);
  MetricCache<prometheus::Gauge, 2> cache(family, {"figuur", "gemeente"});
  // "ab" + "c" and "a" + "bc" are different series.
  cache.Get("ab", "c").Increment();
  cache.Get("a", "bc").Increment(5);
  EXPECT_EQ(family.Add({{"figuur", "ab"}, {"gemeente", "c"}}).Value(), 1);
  EXPECT_EQ(family.Add({{"figuur", "a"}, {"gemeente", "bc"}}).Value(), 5);
  EXPECT_NE(&cache.Get("ab", "c"), &cache.Get("a", "bc"));
}

}  // namespace
}  // namespace inbeeld::observability

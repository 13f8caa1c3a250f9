// Counts the violations of the routing properties of issue 8 (bench/common/
// routing_properties.h) over a generated population and prints them with
// the time taken. Usage:
//   routing_property_bench [--jongeren N] [--seed S] [--config DIR]
// Default: 200000 jongeren, seed 8, the table in deploy/config.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "bench/common/routing_population.h"
#include "bench/common/routing_properties.h"

int main(int argc, char** argv) {
  long jongeren = 200000;
  unsigned seed = 8;
  std::string config = INBEELD_DEFAULT_CONFIG_DIR;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 < argc && a == "--jongeren") {
      jongeren = std::atol(argv[++i]);
    } else if (i + 1 < argc && a == "--seed") {
      seed = static_cast<unsigned>(std::atol(argv[++i]));
    } else if (i + 1 < argc && a == "--config") {
      config = argv[++i];
    } else {
      std::fprintf(stderr, "usage: routing_property_bench [--jongeren N] [--seed S] [--config DIR]\n");
      return 2;
    }
  }
  if (jongeren <= 0) {
    std::fprintf(stderr, "routing_property_bench: --jongeren must be positive\n");
    return 2;
  }
  auto tabel = inbeeld::routing::OrganisatieTabel::Load(config + "/organisaties.csv", config + "/herindelingen.csv");
  if (!tabel.ok()) {
    std::fprintf(stderr, "routing_property_bench: %s\n", std::string(tabel.status().message()).c_str());
    return 1;
  }
  namespace b = inbeeld::signaling::bench;
  const auto start = std::chrono::steady_clock::now();
  std::mt19937 rng(seed);
  b::RoutingTelling totaal;
  for (long i = 0; i < jongeren; ++i) {
    const std::string nr = std::to_string(100000000 + i);  // the core does not check BSNs
    totaal.Tel(b::ControleerRouting(b::RoutingJongere(nr, rng), "p" + nr, *tabel));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("jongeren %lld  signalen %lld  overdrachten %lld  sluitingen %lld  seconds %.1f\n",
              static_cast<long long>(totaal.jongeren), static_cast<long long>(totaal.signalen),
              static_cast<long long>(totaal.overdrachten), static_cast<long long>(totaal.sluitingen), s);
  std::printf("(i)   onbekend while a gemeente was named   %lld\n",
              static_cast<long long>(totaal.onbekend_met_gemeente));
  std::printf("(ii)  closing misses a case organisation    %lld\n",
              static_cast<long long>(totaal.sluiting_mist_organisatie));
  std::printf("(iii) OVERDRACHT with 0000/0998/1999        %lld\n",
              static_cast<long long>(totaal.overdracht_bijzondere_code));
  std::printf("      signals routing refused               %lld\n", static_cast<long long>(totaal.route_fouten));
  return 0;
}

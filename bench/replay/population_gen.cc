// Writes a generated population as Event JSON lines (the input of
// `inbeeld replay` and `inbeeld meld`), for the replay measurements of
// docs/PERFORMANCE.md:
//
//   build/bin/population_gen --jongeren=N [--mix=school-year|national] > FILE
//
// school-year: every jongere gets bench/common/school_year_mix.h (~6.2
//   events), ids made unique per jongere: the same file as e2e_bench's.
// national: the volume of a national population (2.9 M jongeren, ~5.5 M
//   events): 17.6 % of the jongeren get the school-year mix, the others one
//   enrolment (most jongeren produce nothing but their inschrijving in a year).
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/common/school_year_mix.h"
#include "inbeeld/cli/demo_scenario.h"
#include "google/protobuf/util/json_util.h"

namespace {

using namespace inbeeld;  // NOLINT: a benchmark driver

}  // namespace

int main(int argc, char** argv) {
  int jongeren = -1;
  std::string mix = "school-year";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--jongeren=", 0) == 0) {
      if (!absl::SimpleAtoi(a.substr(11), &jongeren) || jongeren < 0) jongeren = -1;
    } else if (a.rfind("--mix=", 0) == 0) {
      mix = a.substr(6);
    } else {
      jongeren = -1;
      break;
    }
  }
  if (jongeren < 0 || (mix != "school-year" && mix != "national")) {
    std::fprintf(stderr, "usage: population_gen --jongeren=N [--mix=school-year|national] > FILE\n");
    return 2;
  }
  std::mt19937 rng(1);  // e2e_bench's seed for jongeren 0..N-1
  std::mt19937 keuze(2);
  std::string out, json;
  long long events = 0;
  for (int i = 0; i < jongeren; ++i) {
    std::vector<v1::Event> ev = signaling::bench::SchoolYearMix(cli::SyntheticBsn(i), rng);
    if (mix == "national" && keuze() % 1000 >= 176) ev.resize(1);  // the enrolment only
    for (v1::Event& e : ev) {
      signaling::bench::MakeIdsUnique(e, absl::StrCat("j", i, "-"));
      json.clear();
      if (!google::protobuf::util::MessageToJsonString(e, &json).ok()) return 1;
      out.append(json).push_back('\n');
      ++events;
    }
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fprintf(stderr, "population_gen: %d jongeren, %lld events (%s)\n", jongeren, events, mix.c_str());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

#pragma once
// The demo scenario `inbeeld run` plays: a handful of jongeren whose events,
// dated relative to today, produce each kind of signal (and some that must
// produce none). Also a generator of valid test identities.
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "inbeeld/v1/events.pb.h"

namespace inbeeld::cli {

// A valid BSN (eleven-test) derived from `seed`; different seeds give
// different BSNs. Synthetic: for demos and tests only.
std::string SyntheticBsn(int seed);

struct DemoStep {
  std::string description;  // what a watcher should expect, no personal data
  v1::Event event;
  // Steps with the same non-zero group travel in one MeldBatch (a school
  // system delivering its day's mutaties together).
  int batch_group = 0;
};

std::vector<DemoStep> DemoScenario(absl::CivilDay today);

}  // namespace inbeeld::cli

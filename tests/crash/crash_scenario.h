#pragma once
// The input of the signaling crash test: a few months of events about ~150
// synthetic jongeren, cut into weekly chunks. Everything is a pure function
// of the seed, so the reference run and the crash run get exactly the same
// records in the same order.
//
// Every event of chunk k is dated on or after the chunk's first day, and the
// test moves "today" to the first day of chunk k+1 only once chunk k is
// committed: no event ever reaches a jongere whose timers already passed the
// event's date, so the signals do not depend on when a tick ran (only late
// events may legitimately give other signals, and this scenario has none).
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "inbeeld/v1/events.pb.h"

namespace inbeeld::crash {

// One week of input.
struct Chunk {
  absl::CivilDay first_day;   // "today" while the chunk is produced
  std::vector<v1::Event> events;  // per jongere in date order
};

struct Scenario {
  std::vector<Chunk> chunks;
  // "today" after the last chunk: far enough for the 90-day timers.
  absl::CivilDay final_day;
  int jongeren = 0;
};

// `jongeren` synthetic jongeren (SyntheticBsn seeds from 1000) over `weeks`
// weeks from `start` (a Monday).
Scenario GenerateScenario(int jongeren, int weeks, absl::CivilDay start);

}  // namespace inbeeld::crash

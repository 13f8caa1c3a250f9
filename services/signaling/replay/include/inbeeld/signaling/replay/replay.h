#pragma once
// `inbeeld replay FILE [--until YYYY-MM-DD] [--progress] [--pseudonym-secret S]` (--help):
// runs the signaling core over a file of events (proto3 JSON, one Event
// envelope per line) and writes the signals as proto3 JSON lines.
#include <atomic>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "inbeeld/signaling/core/config.h"

namespace inbeeld::signaling {

struct ReplayOptions {
  // Last day evaluated; default: last event date + the longest timer.
  std::optional<absl::CivilDay> until;
  bool progress = false;
  // Empty = identity::Pseudonymizer::kDevelopmentSecret.
  std::string pseudonym_secret;
  // Worker threads replaying parts of the input (0: one per core, at most 8).
  size_t threads = 0;
  // Input (as serialized events) kept in memory; beyond it the parts go to
  // temporary files.
  size_t spill_bytes = size_t{64} << 20;
  // When set and true, Replay stops soon with Cancelled (and removes its
  // temporary files): the CLI sets it on SIGINT/SIGTERM.
  const std::atomic<bool>* stop = nullptr;
  CoreConfig config;
};

// Reads events (any order; blank lines ok), validates each, groups them by
// jongere (pseudonym), applies each jongere's events day by day in event-date
// order (ties: kind, bron, id), evaluating the end of every day, up to
// `until`, and writes one Signaal per line ordered by peildatum, signaal_id.
// A bad line gives InvalidArgument "line N: reason" (never the identifier) and
// nothing is written to `out`. Progress (if asked) goes to `progress`.
//
// Memory is bounded: lines are parsed in blocks on every core; beyond
// `spill_bytes` of input the events are split by jongere into 256 temporary
// files under $TMPDIR (default /tmp; events and sorted signals, roughly the
// input's size at the peak; removed when done or on an error), replayed part
// by part on every core, and the parts' sorted signals merged.
absl::Status Replay(std::istream& in, std::ostream& out, const ReplayOptions& options,
                    std::ostream* progress = nullptr);

// The CLI: `args` are the arguments after "replay". Writes signals to stdout,
// errors to stderr. Exit code: 0 ok, 2 bad input or usage, 1 I/O error.
int ReplayMain(const std::vector<std::string>& args);

}  // namespace inbeeld::signaling

#pragma once
// `inbeeld replay FILE [--until YYYY-MM-DD] [--progress] [--pseudonym-secret S]`:
// runs the signaling core over a file of events (proto3 JSON, one Event
// envelope per line) and writes the signals as proto3 JSON lines.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "services/signaling/core/config.h"

namespace inbeeld::signaling {

struct ReplayOptions {
  // Last day evaluated; default: last event date + the longest timer.
  std::optional<absl::CivilDay> until;
  bool progress = false;
  // Empty = identity::Pseudonymizer::kDevelopmentSecret.
  std::string pseudonym_secret;
  CoreConfig config;
};

// Reads events (any order; blank lines ok), validates each, groups them by
// jongere (pseudonym), applies each jongere's events day by day in event-date
// order (ties: kind, bron, id), evaluating the end of every day, up to
// `until`, and writes one Signaal per line ordered by peildatum, signaal_id.
// A bad line gives InvalidArgument "line N: reason" (never the identifier) and
// nothing is written to `out`. Progress (if asked) goes to `progress`.
absl::Status Replay(std::istream& in, std::ostream& out, const ReplayOptions& options,
                    std::ostream* progress = nullptr);

// The CLI: `args` are the arguments after "replay". Writes signals to stdout,
// errors to stderr. Exit code: 0 ok, 2 bad input or usage, 1 I/O error.
int ReplayMain(const std::vector<std::string>& args);

}  // namespace inbeeld::signaling

#pragma once
// Process plumbing shared by every service main.
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace inbeeld::util {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts
// afterwards. Call first thing in main().
void BlockShutdownSignals();
// Waits for SIGINT or SIGTERM (or `timeout`); returns the signal number, 0 on
// timeout. Requires BlockShutdownSignals().
int WaitForShutdownSignal(absl::Duration timeout = absl::InfiniteDuration());

// Turns off Abseil's Mutex deadlock detection for this process. Debian builds
// Abseil without NDEBUG, which leaves the detector on: every Mutex lock then
// looks its mutex up in one process-wide graph under a global spin lock, and a
// new lock order takes a stack trace. That is a debugging aid for tests (which
// keep it); a service turns it off first thing in main(), before any thread.
void DisableMutexDeadlockDetection();

// Writes a flat JSON object of string values to `path` atomically (tmp + rename),
// e.g. {"service":"ingest","grpc":"127.0.0.1:4242","metrics":"127.0.0.1:4243"}.
absl::Status WriteReadyFile(const std::string& path, const std::map<std::string, std::string>& fields);

// Reads a ready file written by WriteReadyFile (flat object of strings).
absl::StatusOr<std::map<std::string, std::string>> ReadReadyFile(const std::string& path);

}  // namespace inbeeld::util

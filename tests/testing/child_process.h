#pragma once
// Test support: real processes for integration tests. A ChildProcess runs a
// binary in its own process group with stdout/stderr to files and kills the
// group when it goes out of scope, so a failing test never leaves processes
// behind. TempDir removes itself likewise.
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace inbeeld::testing_util {

// Directory of the built binaries (build/bin).
std::string BinDir();
// The source tree root.
std::string SourceDir();

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class ChildProcess {
 public:
  // Starts `binary` (absolute, or a name in BinDir()) with `args`; output goes to
  // `log_prefix`.out / .err.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::string& binary,
                                                             const std::vector<std::string>& args,
                                                             const std::string& log_prefix);
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Sends a signal to the process group.
  void Signal(int sig);
  // Waits for exit; the exit code (128+signal when killed), nullopt on timeout.
  std::optional<int> Wait(absl::Duration timeout);
  bool Running();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string out_path_, err_path_;
};

std::string ReadFileOrEmpty(const std::string& path);

// Waits until `path` exists and parses its flat JSON object of strings.
absl::StatusOr<std::map<std::string, std::string>> WaitForReadyFile(const std::string& path,
                                                                    absl::Duration timeout);

}  // namespace inbeeld::testing_util

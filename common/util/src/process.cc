#include "inbeeld/util/process.h"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "inbeeld/util/log.h"

namespace inbeeld::util {
namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockShutdownSignals() {
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void DisableMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

int WaitForShutdownSignal(absl::Duration timeout) {
  sigset_t set = ShutdownSet();
  if (timeout == absl::InfiniteDuration()) {
    int sig = 0;
    sigwait(&set, &sig);
    return sig;
  }
  timespec ts = absl::ToTimespec(timeout);
  int sig = sigtimedwait(&set, nullptr, &ts);
  return sig < 0 ? 0 : sig;
}

absl::Status WriteReadyFile(const std::string& path, const std::map<std::string, std::string>& fields) {
  std::string json = "{";
  bool first = true;
  for (const auto& [k, v] : fields) {
    absl::StrAppend(&json, first ? "" : ",", "\"", JsonEscape(k), "\":\"", JsonEscape(v), "\"");
    first = false;
  }
  json += "}\n";
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return absl::UnavailableError(absl::StrCat("cannot write ready file ", path));
  std::fwrite(json.data(), 1, json.size(), f);
  std::fclose(f);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ready file ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::string>> ReadReadyFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("no ready file ", path));
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  std::fclose(f);
  // Values never contain quotes (addresses, names): pairs of quoted strings.
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (true) {
    const size_t k1 = text.find('"', pos);
    if (k1 == std::string::npos) break;
    const size_t k2 = text.find('"', k1 + 1);
    const size_t v1 = k2 == std::string::npos ? k2 : text.find('"', k2 + 1);
    const size_t v2 = v1 == std::string::npos ? v1 : text.find('"', v1 + 1);
    if (v2 == std::string::npos) return absl::DataLossError(absl::StrCat("malformed ready file ", path));
    out[text.substr(k1 + 1, k2 - k1 - 1)] = text.substr(v1 + 1, v2 - v1 - 1);
    pos = v2 + 1;
  }
  return out;
}

}  // namespace inbeeld::util

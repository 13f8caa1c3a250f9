#include "inbeeld/util/process.h"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "absl/strings/str_cat.h"
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

}  // namespace inbeeld::util

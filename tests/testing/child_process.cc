#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "inbeeld/util/process.h"

namespace inbeeld::testing_util {

std::string BinDir() { return INBEELD_BIN_DIR; }
std::string SourceDir() { return INBEELD_SOURCE_DIR; }

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "inbeeld-test-XXXXXX").string();
  path_ = mkdtemp(tmpl.data()) ? tmpl : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::string& binary,
                                                                  const std::vector<std::string>& args,
                                                                  const std::string& log_prefix) {
  std::string path = binary.find('/') == std::string::npos ? BinDir() + "/" + binary : binary;
  if (access(path.c_str(), X_OK) != 0) return absl::NotFoundError(absl::StrCat("no executable ", path));
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->out_path_ = log_prefix + ".out";
  child->err_path_ = log_prefix + ".err";
  std::vector<std::string> argv_s = {path};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  // The service binaries read their files below INBEELD_CONFIG_DIR and keep
  // state below INBEELD_DATA_DIR (default /etc/inbeeld, /var/lib/inbeeld):
  // tests give them the repository's deploy/config and the test's own
  // directory, unless the test's environment (or a flag) says otherwise.
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
  if (std::getenv("INBEELD_CONFIG_DIR") == nullptr) {
    env_s.push_back("INBEELD_CONFIG_DIR=" + SourceDir() + "/deploy/config");
  }
  if (std::getenv("INBEELD_DATA_DIR") == nullptr) {
    const size_t slash = log_prefix.rfind('/');
    env_s.push_back("INBEELD_DATA_DIR=" + (slash == std::string::npos ? std::string(".") : log_prefix.substr(0, slash)));
  }
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    // Unblock what a parent may have blocked (services block them for sigwait).
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    int out = open(child->out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(child->err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    execve(path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  setpgid(pid, pid);
  child->pid_ = pid;
  return child;
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0 && !exit_code_) kill(-pid_, sig);
}

bool ChildProcess::Running() {
  if (exit_code_) return false;
  return !Wait(absl::ZeroDuration()).has_value();
}

std::optional<int> ChildProcess::Wait(absl::Duration timeout) {
  if (exit_code_) return exit_code_;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      // Reap anything the process left in its group.
      kill(-pid_, SIGKILL);
      return exit_code_;
    }
    if (absl::Now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  if (!exit_code_) {
    Signal(SIGTERM);
    if (!Wait(absl::Seconds(10))) {
      Signal(SIGKILL);
      Wait(absl::Seconds(5));
    }
  }
  kill(-pid_, SIGKILL);  // children of the group that outlived their parent
}

std::string ChildProcess::Stdout() const { return ReadFileOrEmpty(out_path_); }
std::string ChildProcess::Stderr() const { return ReadFileOrEmpty(err_path_); }

absl::StatusOr<std::map<std::string, std::string>> WaitForReadyFile(const std::string& path,
                                                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (std::filesystem::exists(path)) return util::ReadReadyFile(path);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("no ready file ", path, " in time"));
}

}  // namespace inbeeld::testing_util

#pragma once
// Support of the broker-fault and crash tests: service processes that can be
// killed and restarted (new ports each time), a subscriber that resumes from
// its cursor whenever its stream ends, and Prometheus text helpers.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "child_process.h"

#include "integration_support.h"

namespace inbeeld::faults {

using integration::MetricSum;

// One service binary on fixed flags; every Start is a new process (ports 0,
// read back from the ready file).
class ServiceProcess {
 public:
  ServiceProcess(std::string binary, std::vector<std::string> args, std::string work_dir);
  ~ServiceProcess();

  absl::Status Start();
  // SIGKILL: no flush, no commit, no goodbye to the group.
  void Kill();
  // SIGTERM; an error unless it exits 0.
  absl::Status Stop();
  bool Running();

  // A field of the current process's ready file ("grpc", "metrics").
  std::string Ready(const std::string& key) const;
  // The current process's /metrics ("" when unreachable).
  std::string Metrics() const;
  std::string LogTail() const;
  // Everything the current process logged.
  std::string Log() const;
  int starts() const { return starts_; }

 private:
  std::string binary_;
  std::vector<std::string> args_;
  std::string work_dir_;
  int starts_ = 0;
  std::unique_ptr<testing_util::ChildProcess> process_;
  std::map<std::string, std::string> ready_;
};

// A client of SignaalService/Subscribe (plaintext) for one organisation, on
// its own thread. Whenever its stream ends (delivery killed or stopped, its
// own Reconnect) it subscribes again with the last cursor it processed, at the
// address `address()` gives then. `resume_from_cursor` false is a broken
// client (starts from the beginning every time) for the tests' own checks.
class Subscriber {
 public:
  Subscriber(std::string organisatie, std::function<std::string()> address, bool resume_from_cursor = true);
  ~Subscriber();

  void Start();
  void Stop();
  // The subscriber's own reconnect: cancels the current stream.
  void Reconnect();

  // signaal_id -> copies received.
  std::map<std::string, int> Received() const;
  // How often a stream ended with each gRPC status code.
  std::map<int, int> Endings() const;
  int streams() const;
  // Waits until every id of `expected` was received at least once.
  bool WaitForAll(const std::set<std::string>& expected, absl::Duration timeout) const;

 private:
  void Loop();

  const std::string organisatie_;
  const std::function<std::string()> address_;
  const bool resume_from_cursor_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::map<std::string, int> copies_ ABSL_GUARDED_BY(mu_);
  std::map<int, int> endings_ ABSL_GUARDED_BY(mu_);
  std::string cursor_ ABSL_GUARDED_BY(mu_);
  int streams_ ABSL_GUARDED_BY(mu_) = 0;
  void* current_ ABSL_GUARDED_BY(mu_) = nullptr;  // grpc::ClientContext of the open stream
};

}  // namespace inbeeld::faults

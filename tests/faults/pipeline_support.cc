#include "pipeline_support.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/v1/signaal_service.grpc.pb.h"
#include "integration_support.h"

namespace inbeeld::faults {


ServiceProcess::ServiceProcess(std::string binary, std::vector<std::string> args, std::string work_dir)
    : binary_(std::move(binary)), args_(std::move(args)), work_dir_(std::move(work_dir)) {}

ServiceProcess::~ServiceProcess() = default;  // ChildProcess kills its group

absl::Status ServiceProcess::Start() {
  ++starts_;
  const std::string ready_file = absl::StrCat(work_dir_, "/", binary_, ".ready");
  ::unlink(ready_file.c_str());
  std::vector<std::string> args = args_;
  args.push_back("--ready-file=" + ready_file);
  auto child = testing_util::ChildProcess::Start(binary_, args, absl::StrCat(work_dir_, "/", binary_, "-", starts_));
  if (!child.ok()) return child.status();
  process_ = std::move(*child);
  auto ready = testing_util::WaitForReadyFile(ready_file, integration::kReadyTimeout);
  if (!ready.ok()) return absl::Status(ready.status().code(), absl::StrCat(ready.status().message(), "\n", LogTail()));
  ready_ = std::move(*ready);
  return absl::OkStatus();
}

void ServiceProcess::Kill() {
  if (process_ == nullptr) return;
  process_->Signal(SIGKILL);
  process_->Wait(absl::Seconds(10));
}

absl::Status ServiceProcess::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  process_->Signal(SIGTERM);
  std::optional<int> code = process_->Wait(integration::kExitTimeout);
  if (code != std::optional<int>(0)) {
    return absl::InternalError(absl::StrCat(binary_, " did not exit 0 on SIGTERM: ", code.value_or(-1), "\n",
                                            LogTail()));
  }
  return absl::OkStatus();
}

bool ServiceProcess::Running() { return process_ != nullptr && process_->Running(); }

std::string ServiceProcess::Ready(const std::string& key) const {
  auto it = ready_.find(key);
  return it == ready_.end() ? "" : it->second;
}

std::string ServiceProcess::Metrics() const {
  const std::string address = Ready("metrics");
  if (address.empty()) return "";
  auto text = integration::HttpGet(address, "/metrics");
  return text.ok() ? *text : "";
}

std::string ServiceProcess::Log() const {
  return process_ == nullptr ? "" : process_->Stdout() + process_->Stderr();
}

std::string ServiceProcess::LogTail() const {
  std::string log = Log();
  if (log.size() > 4000) log = log.substr(log.size() - 4000);
  return absl::StrCat("--- ", binary_, " log tail ---\n", log);
}

Subscriber::Subscriber(std::string organisatie, std::function<std::string()> address, bool resume_from_cursor)
    : organisatie_(std::move(organisatie)), address_(std::move(address)), resume_from_cursor_(resume_from_cursor) {}

Subscriber::~Subscriber() { Stop(); }

void Subscriber::Start() { thread_ = std::thread([this] { Loop(); }); }

void Subscriber::Stop() {
  stop_ = true;
  Reconnect();
  if (thread_.joinable()) thread_.join();
}

void Subscriber::Reconnect() {
  absl::MutexLock lock(&mu_);
  if (current_ != nullptr) static_cast<grpc::ClientContext*>(current_)->TryCancel();
}

void Subscriber::Loop() {
  while (!stop_) {
    const std::string address = address_();
    if (address.empty()) {
      absl::SleepFor(absl::Milliseconds(50));
      continue;
    }
    auto stub = v1::SignaalService::NewStub(integration::LocalChannel(address));
    grpc::ClientContext context;
    // A hang bound only: streams end by a kill, a stop or Reconnect.
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
    v1::SubscribeRequest request;
    request.set_organisatie(organisatie_);
    {
      absl::MutexLock lock(&mu_);
      if (stop_) break;
      if (resume_from_cursor_) request.set_cursor(cursor_);
      current_ = &context;
      ++streams_;
    }
    auto reader = stub->Subscribe(&context, request);
    v1::SignaalBericht bericht;
    while (reader->Read(&bericht)) {
      absl::MutexLock lock(&mu_);
      ++copies_[bericht.signaal().signaal_id()];
      cursor_ = bericht.cursor();
    }
    const grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&mu_);
      current_ = nullptr;
      ++endings_[status.error_code()];
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
}

std::map<std::string, int> Subscriber::Received() const {
  absl::MutexLock lock(&mu_);
  return copies_;
}

std::map<int, int> Subscriber::Endings() const {
  absl::MutexLock lock(&mu_);
  return endings_;
}

int Subscriber::streams() const {
  absl::MutexLock lock(&mu_);
  return streams_;
}

bool Subscriber::WaitForAll(const std::set<std::string>& expected, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    bool all = true;
    {
      absl::MutexLock lock(&mu_);
      for (const std::string& id : expected) {
        if (!copies_.count(id)) {
          all = false;
          break;
        }
      }
    }
    if (all) return true;
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace inbeeld::faults

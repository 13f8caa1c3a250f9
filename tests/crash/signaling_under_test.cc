#include "signaling_under_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::crash {
namespace {

// One plain HTTP/1.0 GET; the metrics server closes the connection after
// the answer.
absl::StatusOr<std::string> HttpGet(const std::string& address, const std::string& path) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(absl::StrCat("bad address ", address));
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to ", address));
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", address, "\r\n\r\n");
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("send failed");
  }
  std::string body;
  char buf[8192];
  while (true) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    body.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t start = body.find("\r\n\r\n");
  if (start == std::string::npos) return absl::UnavailableError("no HTTP answer");
  return body.substr(start + 4);
}

}  // namespace

SignalingUnderTest::SignalingUnderTest(ServiceConfig config)
    : config_(std::move(config)),
      state_dir_(config_.work_dir + "/" + config_.name + "-state"),
      date_file_(config_.work_dir + "/" + config_.name + "-today") {}

SignalingUnderTest::~SignalingUnderTest() {
  // ChildProcess kills its process group on destruction; SIGKILL first so a
  // failing test does not wait for a graceful drain.
  if (process_ && process_->Running()) {
    process_->Signal(SIGKILL);
    process_->Wait(absl::Seconds(10));
  }
}

absl::Status SignalingUnderTest::SetToday(absl::CivilDay day) {
  const std::string tmp = date_file_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << util::FormatDate(day) << "\n";
    if (!out) return absl::InternalError("cannot write the date file");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, date_file_, ec);
  return ec ? absl::InternalError(ec.message()) : absl::OkStatus();
}

absl::Status SignalingUnderTest::Start() {
  if (process_ && process_->Running()) return absl::FailedPreconditionError("already running");
  ++starts_;
  const std::string ready = absl::StrCat(config_.work_dir, "/", config_.name, "-ready-", starts_, ".json");
  log_prefix_ = absl::StrCat(config_.work_dir, "/", config_.name, "-", starts_);
  std::vector<std::string> args = {
      "--kafka=" + config_.bootstrap, "--state-dir=" + state_dir_, "--date-file=" + date_file_, "--tick=200ms",
      "--plaintext", "--grpc-listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0", "--ready-file=" + ready,
      "--pseudonym-secret=" + config_.pseudonym_secret, "--sync-writes=true", "--group=" + config_.name,
      "--log-level=warn", "--kafka-config=" + config_.kafka_config};
  args.insert(args.end(), config_.extra_args.begin(), config_.extra_args.end());
  auto child = testing_util::ChildProcess::Start("inbeeld-signaling", args, log_prefix_);
  if (!child.ok()) return child.status();
  process_ = std::move(*child);
  auto fields = testing_util::WaitForReadyFile(ready, absl::Seconds(60));
  if (!fields.ok()) return fields.status();
  metrics_address_ = (*fields)["metrics"];
  status_ = v1::LeerplichtService::NewStub(
      grpc::CreateChannel((*fields)["grpc"], grpc::InsecureChannelCredentials()));
  return absl::OkStatus();
}

absl::Status SignalingUnderTest::Kill() {
  if (!process_) return absl::FailedPreconditionError("not started");
  process_->Signal(SIGKILL);
  if (!process_->Wait(absl::Seconds(10))) return absl::DeadlineExceededError("SIGKILL did not end the process");
  return absl::OkStatus();
}

absl::Status SignalingUnderTest::Stop() {
  if (!process_) return absl::OkStatus();
  process_->Signal(SIGTERM);
  auto code = process_->Wait(absl::Seconds(15));
  if (!code) return absl::DeadlineExceededError("no exit within 15 s of SIGTERM");
  if (*code != 0) return absl::InternalError(absl::StrCat("exit code ", *code));
  return absl::OkStatus();
}

absl::Status SignalingUnderTest::WipeState() {
  if (Running()) return absl::FailedPreconditionError("still running");
  std::error_code ec;
  std::filesystem::remove_all(state_dir_, ec);
  return ec ? absl::InternalError(ec.message()) : absl::OkStatus();
}

bool SignalingUnderTest::Running() { return process_ && process_->Running(); }

absl::Status SignalingUnderTest::WaitCommitted(const std::vector<v1::Leerling>& markers, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t next = 0;
  while (next < markers.size()) {
    if (!Running()) return absl::AbortedError("inbeeld-signaling exited on its own");
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("marker ", next, " of ", markers.size(),
                                                      " not committed; the service's figures:\n", Figures()));
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::StatusRequest req;
    *req.mutable_leerling() = markers[next];
    v1::StatusResponse resp;
    grpc::Status s = status_->Status(&ctx, req, &resp);
    if (s.ok()) {
      ++next;
      continue;
    }
    if (s.error_code() != grpc::StatusCode::NOT_FOUND && s.error_code() != grpc::StatusCode::UNAVAILABLE &&
        s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      return absl::InternalError(absl::StrCat("Status RPC: ", s.error_message()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return absl::OkStatus();
}

std::string SignalingUnderTest::Figures() {
  auto text = Scrape();
  if (!text.ok()) return std::string(text.status().message());
  std::string out;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (absl::StartsWith(line, "inbeeld_signaling_") || absl::StartsWith(line, "inbeeld_kafka_consumer_lag") ||
        absl::StartsWith(line, "inbeeld_kafka_producer_queue")) {
      absl::StrAppend(&out, "  ", line, "\n");
    }
  }
  return out;
}

absl::StatusOr<std::string> SignalingUnderTest::Scrape() { return HttpGet(metrics_address_, "/metrics"); }

absl::StatusOr<double> SignalingUnderTest::Metric(const std::string& name) {
  auto text = Scrape();
  if (!text.ok()) return text.status();
  double sum = 0;
  bool found = false;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    if (!absl::StartsWith(line, name)) continue;
    const absl::string_view rest = line.substr(name.size());
    if (rest.empty() || (rest[0] != ' ' && rest[0] != '{')) continue;  // a longer name
    const size_t space = line.rfind(' ');
    double v = 0;
    if (absl::SimpleAtod(line.substr(space + 1), &v)) {
      sum += v;
      found = true;
    }
  }
  if (!found) return absl::NotFoundError(absl::StrCat("no metric ", name));
  return sum;
}

absl::Status SignalingUnderTest::WaitForTickAfter(absl::Time after, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const double after_s = absl::ToDoubleSeconds(after - absl::UnixEpoch());
  // L1: a tick ended after `after` while the partitions were assigned; the
  // tick after L1 started after `after` but maybe before the assignment
  // completed; the one after that (L3) ran over the partitions with the date.
  double last = after_s;
  int seen = 0;
  while (seen < 3) {
    if (!Running()) return absl::AbortedError("inbeeld-signaling exited on its own");
    if (absl::Now() > deadline) return absl::DeadlineExceededError("no timer tick after the date step");
    auto jongeren = Metric("inbeeld_signaling_jongeren");
    auto tick = Metric("inbeeld_signaling_last_tick_timestamp_seconds");
    if (jongeren.ok() && tick.ok() && *jongeren > 0 && *tick > last) {
      last = *tick;
      ++seen;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::OkStatus();
}

std::string SignalingUnderTest::LogTail() const {
  std::string err = testing_util::ReadFileOrEmpty(log_prefix_ + ".err");
  if (err.size() > 4000) err = err.substr(err.size() - 4000);
  return err;
}

}  // namespace inbeeld::crash

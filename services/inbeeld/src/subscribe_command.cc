#include "inbeeld/cli/subscribe_command.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/v1/signaal_service.grpc.pb.h"

namespace inbeeld::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitTimeout = 3;

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return absl::StrCat("code ", static_cast<int>(code));
  }
}

}  // namespace

int SubscribeMain(const std::vector<std::string>& args) {
  return SubscribeMain(args, std::cout, std::cerr);
}

int SubscribeMain(const std::vector<std::string>& raw_args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args = raw_args;
  if (!args.empty() && args.front() == "subscribe") args.erase(args.begin());
  CLI::App app("Prints an organisation's signals as JSON lines (SignaalService.Subscribe).",
                "inbeeld subscribe");
  std::string address;
  std::string organisatie;
  std::string cursor;
  util::TlsFlags tls_flags;
  int64_t max_signals = 0;
  absl::Duration timeout = absl::InfiniteDuration();
  util::AddOption(app, "address", address, "delivery's gRPC address host:port")->required();
  util::AddOption(app, "organisatie", organisatie, "the organisation whose signals to follow")->required();
  util::AddOption(app, "cursor", cursor, "resume after this cursor (empty: from the start)");
  tls_flags.Add(app);
  util::AddOption(app, "max", max_signals, "stop after N signals (0: never)")->check(util::IntegerIn(0));
  util::AddDuration(app, "timeout", timeout, "bound on the whole run");
  if (auto exit = util::ParseFlags(app, args, out, err)) return *exit == 0 ? kExitOk : kExitUsage;
  grpc_util::TlsOptions tls;
  tls.plaintext = tls_flags.plaintext;
  tls.cert_file = tls_flags.cert;
  tls.key_file = tls_flags.key;
  tls.ca_file = tls_flags.ca;
  if (!tls.plaintext && !tls_flags.Complete()) {
    err << "inbeeld subscribe: --tls-cert, --tls-key and --tls-ca are required (the server "
           "identifies the organisation by its client certificate), or --plaintext\n";
    return kExitUsage;
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      grpc_util::ChannelCredentials(tls);
  if (!credentials.ok()) {
    err << "inbeeld subscribe: " << credentials.status().message() << "\n";
    return kExitUsage;
  }

  const absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  int64_t received = 0;
  absl::Duration backoff = absl::Milliseconds(200);
  google::protobuf::util::JsonPrintOptions json;
  json.always_print_primitive_fields = false;

  std::shared_ptr<grpc::Channel> channel = grpc::CreateChannel(address, *credentials);
  std::unique_ptr<v1::SignaalService::Stub> stub = v1::SignaalService::NewStub(channel);
  while (true) {
    grpc::ClientContext context;
    if (deadline != absl::InfiniteFuture()) context.set_deadline(absl::ToChronoTime(deadline));
    v1::SubscribeRequest request;
    request.set_organisatie(organisatie);
    request.set_cursor(cursor);
    std::unique_ptr<grpc::ClientReader<v1::SignaalBericht>> reader =
        stub->Subscribe(&context, request);
    v1::SignaalBericht bericht;
    bool progressed = false;
    while (reader->Read(&bericht)) {
      std::string line;
      if (auto s = google::protobuf::util::MessageToJsonString(bericht, &line, json); !s.ok()) {
        err << "inbeeld subscribe: cannot print a signal: " << s.ToString() << "\n";
        return kExitError;
      }
      out << line << "\n" << std::flush;
      cursor = bericht.cursor();
      progressed = true;
      if (max_signals > 0 && ++received >= max_signals) {
        context.TryCancel();
        reader->Finish();
        return kExitOk;
      }
    }
    grpc::Status status = reader->Finish();
    switch (status.error_code()) {
      case grpc::StatusCode::OK:
        return kExitOk;
      case grpc::StatusCode::PERMISSION_DENIED:
      case grpc::StatusCode::UNAUTHENTICATED:
      case grpc::StatusCode::INVALID_ARGUMENT:
        err << "inbeeld subscribe: refused (" << CodeName(status.error_code())
            << "): " << status.error_message() << "\n";
        return kExitRefused;
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        if (absl::Now() < deadline) break;  // a server-side deadline: retry
        if (max_signals > 0) {
          err << "inbeeld subscribe: --timeout reached after " << received << " of " << max_signals
              << " signals\n";
          return kExitTimeout;
        }
        return kExitOk;
      case grpc::StatusCode::UNAVAILABLE:
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
        break;
      default:
        err << "inbeeld subscribe: " << CodeName(status.error_code()) << ": "
            << status.error_message() << "\n";
        return kExitError;
    }
    // Resumable: reconnect from the last cursor printed, backing off while the
    // server stays away.
    if (progressed) backoff = absl::Milliseconds(200);
    err << "inbeeld subscribe: " << CodeName(status.error_code()) << " (" << status.error_message()
        << "); reconnecting from cursor \"" << cursor << "\"\n";
    absl::Time wake = std::min(absl::Now() + backoff, deadline);
    absl::SleepFor(wake - absl::Now());
    backoff = std::min(backoff * 2, absl::Seconds(5));
    if (absl::Now() >= deadline) {
      if (max_signals > 0) {
        err << "inbeeld subscribe: --timeout reached after " << received << " of " << max_signals
            << " signals\n";
        return kExitTimeout;
      }
      return kExitOk;
    }
  }
}

}  // namespace inbeeld::cli

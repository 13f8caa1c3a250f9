#include "subscribe_command.h"

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
#include "inbeeld/util/config.h"
#include "inbeeld/v1/signaal_service.grpc.pb.h"

namespace inbeeld::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitRefused = 2;
constexpr int kExitTimeout = 3;
constexpr int kExitError = 4;

constexpr char kUsage[] =
    "usage: inbeeld subscribe --address=host:port --organisatie=ID [--cursor=C]\n"
    "         [--tls-cert=PEM --tls-key=PEM --tls-ca=PEM | --plaintext]\n"
    "         [--max=N] [--timeout=DURATION]\n";

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
  absl::StatusOr<util::Config> config = util::Config::Parse(
      args, {"address", "organisatie", "cursor", "tls-cert", "tls-key", "tls-ca", "plaintext",
             "max", "timeout"});
  if (!config.ok()) {
    err << "inbeeld subscribe: " << config.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  if (!config->positional().empty()) {
    err << "inbeeld subscribe: unexpected argument " << config->positional().front() << "\n"
        << kUsage;
    return kExitUsage;
  }
  const std::string address = config->GetString("address", "");
  const std::string organisatie = config->GetString("organisatie", "");
  absl::StatusOr<bool> plaintext = config->GetBool("plaintext", false);
  absl::StatusOr<int64_t> max = config->GetInt("max", 0);
  absl::StatusOr<absl::Duration> timeout = config->GetDuration("timeout", absl::InfiniteDuration());
  for (const absl::Status& s : {plaintext.status(), max.status(), timeout.status()}) {
    if (!s.ok()) {
      err << "inbeeld subscribe: " << s.message() << "\n" << kUsage;
      return kExitUsage;
    }
  }
  if (address.empty() || organisatie.empty() || *max < 0) {
    err << "inbeeld subscribe: --address and --organisatie are required\n" << kUsage;
    return kExitUsage;
  }
  grpc_util::TlsOptions tls;
  tls.plaintext = *plaintext;
  tls.cert_file = config->GetString("tls-cert", "");
  tls.key_file = config->GetString("tls-key", "");
  tls.ca_file = config->GetString("tls-ca", "");
  if (!tls.plaintext && (tls.cert_file.empty() || tls.key_file.empty() || tls.ca_file.empty())) {
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
      *timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + *timeout;
  std::string cursor = config->GetString("cursor", "");
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
      if (*max > 0 && ++received >= *max) {
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
        if (*max > 0) {
          err << "inbeeld subscribe: --timeout reached after " << received << " of " << *max
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
      if (*max > 0) {
        err << "inbeeld subscribe: --timeout reached after " << received << " of " << *max
            << " signals\n";
        return kExitTimeout;
      }
      return kExitOk;
    }
  }
}

}  // namespace inbeeld::cli

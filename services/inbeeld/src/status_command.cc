#include "inbeeld/cli/status_command.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/v1/leerplicht_service.grpc.pb.h"

namespace inbeeld::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

std::string PlichtstatusText(v1::Plichtstatus status) {
  switch (status) {
    case v1::PLICHTSTATUS_NIET_PLICHTIG: return "niet plichtig";
    case v1::PLICHTSTATUS_LEERPLICHTIG: return "leerplichtig";
    case v1::PLICHTSTATUS_KWALIFICATIEPLICHTIG: return "kwalificatieplichtig";
    case v1::PLICHTSTATUS_VRIJGESTELD: return "vrijgesteld";
    default: return "onbekend";
  }
}

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    default: return absl::StrCat("code ", static_cast<int>(code));
  }
}

// "SIGNAAL_SOORT_ABSOLUUT_VERZUIM" → "ABSOLUUT_VERZUIM".
std::string SoortText(v1::SignaalSoort soort) {
  return std::string(absl::StripPrefix(v1::SignaalSoort_Name(soort), "SIGNAAL_SOORT_"));
}

std::string Periode(const std::string& van, const std::string& tot) {
  if (van.empty() && tot.empty()) return "-";
  return absl::StrCat(van.empty() ? "?" : van, " t/m ", tot.empty() ? "?" : tot);
}

void PrintText(const v1::StatusResponse& r, std::ostream& out) {
  std::vector<std::string> open;
  if (r.absoluut_verzuim()) open.push_back("absoluut verzuim");
  if (r.uit_beeld()) open.push_back("uit beeld");
  out << "peildatum:           " << r.peildatum() << "\n"
      << "plichtstatus:        " << PlichtstatusText(r.status()) << "\n"
      << "regel:               " << (r.regel().empty() ? "-" : r.regel())
      << (r.artikel().empty() ? "" : absl::StrCat(" (", r.artikel(), ")")) << "\n"
      << "leerplicht:          " << Periode(r.leerplicht_van(), r.leerplicht_tot()) << "\n"
      << "kwalificatieplicht:  " << Periode(r.kwalificatieplicht_van(), r.kwalificatieplicht_tot()) << "\n"
      << "ingeschreven:        " << (r.ingeschreven() ? "ja" : "nee") << "\n"
      << "open situaties:      " << (open.empty() ? "geen" : absl::StrJoin(open, ", ")) << "\n";
  out << "open zaken:          " << (r.open_zaken().empty() ? "geen" : "") << "\n";
  for (const v1::OpenZaak& z : r.open_zaken()) {
    out << "  " << SoortText(z.soort()) << " sinds " << z.begindatum() << ", woongemeente " << z.woongemeente()
        << ", signaal " << z.signaal_id() << "\n";
  }
  out << "laatste signalen:    " << (r.laatste_signalen().empty() ? "geen" : "") << "\n";
  for (const v1::SignaalOverzicht& s : r.laatste_signalen()) {
    out << "  " << s.peildatum() << "  " << SoortText(s.soort()) << ", woongemeente " << s.woongemeente()
        << ", signaal " << s.signaal_id()
        << (s.zaak_signaal_id().empty() ? "" : absl::StrCat(" (zaak ", s.zaak_signaal_id(), ")")) << "\n";
  }
}

}  // namespace

int StatusMain(const std::vector<std::string>& args) { return StatusMain(args, std::cin, std::cout, std::cerr); }

int StatusMain(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
  CLI::App app(
      "One jongere's leerplicht status (LeerplichtService.Status on inbeeld-signaling). The BSN or\n"
      "onderwijsnummer is read from standard input or --identity-file, never from the command line.",
      "inbeeld status");
  std::string address = "127.0.0.1:50053";
  std::string identity_file;
  std::string peildatum;
  bool json = false;
  absl::Duration timeout = absl::Seconds(10);
  util::TlsFlags tls_flags;
  util::AddOption(app, "address", address, "inbeeld-signaling's gRPC address host:port");
  util::AddOption(app, "identity-file", identity_file, "read the BSN or onderwijsnummer from this file (default: stdin)");
  util::AddOption(app, "peildatum", peildatum, "the date asked about, YYYY-MM-DD (empty: today)")
      ->check([](const std::string& text) -> std::string {
        return util::ParseDate(text).ok() ? "" : "needs a date YYYY-MM-DD";
      }, "");
  util::AddSwitch(app, "json", json, "print the answer as proto3 JSON");
  util::AddDuration(app, "timeout", timeout, "how long to wait for the answer");
  tls_flags.Add(app);
  // A stray argument may be a BSN typed on the command line: never repeat it.
  if (auto exit = util::ParseFlags(app, args, out, err, /*echo_unexpected=*/false)) return *exit;
  if (!tls_flags.plaintext && !tls_flags.Complete()) {
    err << "inbeeld status: --tls-cert, --tls-key and --tls-ca are required, or --plaintext\n";
    return kExitUsage;
  }

  std::string identity;
  if (identity_file.empty()) {
    identity.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    std::ifstream file(identity_file);
    if (!file) {
      err << "inbeeld status: cannot read --identity-file " << identity_file << "\n";
      return kExitUsage;
    }
    identity.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  absl::StripAsciiWhitespace(&identity);
  v1::StatusRequest request;
  // The two number spaces are disjoint: a BSN passes the eleven-test (sum ≡ 0),
  // an onderwijsnummer starts with 10 and has sum ≡ 5 (mod 11).
  if (identity::IsValidBsn(identity)) {
    request.mutable_leerling()->set_bsn(identity);
  } else if (identity::IsValidOnderwijsnummer(identity)) {
    request.mutable_leerling()->set_onderwijsnummer(identity);
  } else {
    // Never repeat the input: it may be a mistyped BSN.
    err << "inbeeld status: the identity read from "
        << (identity_file.empty() ? "standard input" : "--identity-file")
        << " is not a valid BSN or onderwijsnummer (9 digits passing the eleven-test)\n";
    return kExitUsage;
  }
  request.set_peildatum(peildatum);

  grpc_util::TlsOptions tls;
  tls.plaintext = tls_flags.plaintext;
  tls.cert_file = tls_flags.cert;
  tls.key_file = tls_flags.key;
  tls.ca_file = tls_flags.ca;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = grpc_util::ChannelCredentials(tls);
  if (!credentials.ok()) {
    err << "inbeeld status: " << credentials.status().message() << "\n";
    return kExitUsage;
  }
  std::unique_ptr<v1::LeerplichtService::Stub> stub =
      v1::LeerplichtService::NewStub(grpc::CreateChannel(address, *credentials));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::StatusResponse response;
  grpc::Status status = stub->Status(&context, request, &response);
  if (!status.ok()) {
    err << "inbeeld status: " << CodeName(status.error_code()) << ": " << status.error_message()
        << "\n";
    return kExitFailed;
  }
  if (json) {
    std::string line;
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    if (auto s = google::protobuf::util::MessageToJsonString(response, &line, options); !s.ok()) {
      err << "inbeeld status: cannot print the answer as JSON\n";
      return kExitFailed;
    }
    out << line << "\n";
  } else {
    PrintText(response, out);
  }
  return kExitOk;
}

}  // namespace inbeeld::cli

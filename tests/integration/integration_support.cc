#include "integration_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "inbeeld/cli/demo_scenario.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/generic/generic_stub.h"

namespace inbeeld::integration {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// A string field `number` as protobuf wire bytes.
std::string StringField(int number, const std::string& value) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(static_cast<uint32_t>(number) << 3 | 2);  // wire type 2: length-delimited
    coded.WriteVarint32(static_cast<uint32_t>(value.size()));
    coded.WriteString(value);
  }
  return out;
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Waits for `tag` on `cq`; false if the operation failed (the call's status
// then tells why).
bool Await(grpc::CompletionQueue& cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  if (!cq.Next(&got, &ok)) return false;
  return got == tag && ok;
}

absl::Status ToAbsl(const grpc::Status& st) {
  return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
}

std::string Date(std::string_view d) { return std::string(d); }

}  // namespace

v1::Event ValidVerzuimMelding(int seed, const std::string& id) {
  v1::Event e;
  auto* m = e.mutable_verzuimmelding();
  m->set_melding_id(id);
  m->set_bron("05KO");
  m->mutable_leerling()->set_bsn(cli::SyntheticBsn(seed));
  m->set_geboortedatum(Date("2012-03-04"));
  m->set_brin("05KO");
  m->set_vestiging("00");
  m->set_woongemeente("0363");
  m->set_soort(v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN);
  m->set_meldingsdatum(Date("2025-03-10"));
  m->set_begindatum(Date("2025-02-10"));
  m->set_verzuim_uren(16);
  m->set_verzuim_dagen(4);
  m->set_school_actie(v1::SCHOOL_ACTIE_GESPREK_OUDERS);
  return e;
}

v1::Event ValidInschrijving(int seed, const std::string& id) {
  v1::Event e;
  auto* m = e.mutable_inschrijvingsmutatie();
  m->set_mutatie_id(id);
  m->set_bron("05KO");
  m->mutable_leerling()->set_bsn(cli::SyntheticBsn(seed));
  m->set_geboortedatum(Date("2012-03-04"));
  m->set_brin("05KO");
  m->set_vestiging("00");
  m->set_woongemeente("0363");
  m->set_soort(v1::MUTATIE_SOORT_INSCHRIJVING);
  m->set_ingangsdatum(Date("2024-08-19"));
  m->set_onderwijssoort(v1::ONDERWIJSSOORT_VO);
  return e;
}

v1::Event ValidAdresMutatie(int seed, const std::string& id) {
  v1::Event e;
  auto* m = e.mutable_adresmutatie();
  m->set_mutatie_id(id);
  m->set_bron("GM0363");
  m->mutable_leerling()->set_bsn(cli::SyntheticBsn(seed));
  m->set_geboortedatum(Date("2012-03-04"));
  m->set_soort(v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND);
  m->set_ingangsdatum(Date("2025-01-15"));
  m->set_gemeente("0599");
  return e;
}

v1::Event ValidVrijstelling(int seed, const std::string& id) {
  v1::Event e;
  auto* m = e.mutable_vrijstelling();
  m->set_id(id);
  m->set_bron("GM0363");
  m->mutable_leerling()->set_bsn(cli::SyntheticBsn(seed));
  m->set_geboortedatum(Date("2012-03-04"));
  m->set_artikel(v1::VRIJSTELLING_ARTIKEL_5_ONDER_A);
  m->set_van(Date("2025-01-01"));
  m->set_tot(Date("2025-07-31"));
  m->set_gemeente("0363");
  return e;
}

v1::Leerling* MutableLeerling(v1::Event* e) {
  switch (e->event_case()) {
    case v1::Event::kVerzuimmelding: return e->mutable_verzuimmelding()->mutable_leerling();
    case v1::Event::kInschrijvingsmutatie: return e->mutable_inschrijvingsmutatie()->mutable_leerling();
    case v1::Event::kAdresmutatie: return e->mutable_adresmutatie()->mutable_leerling();
    case v1::Event::kVrijstelling: return e->mutable_vrijstelling()->mutable_leerling();
    default: return nullptr;
  }
}

std::shared_ptr<grpc::Channel> LocalChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

grpc::Status Send(v1::MeldingService::Stub& stub, const v1::Event& e, v1::MeldAntwoord* resp,
                  std::chrono::seconds deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding: return stub.MeldVerzuim(&ctx, e.verzuimmelding(), resp);
    case v1::Event::kInschrijvingsmutatie: return stub.MeldInschrijving(&ctx, e.inschrijvingsmutatie(), resp);
    case v1::Event::kAdresmutatie: return stub.MeldAdresMutatie(&ctx, e.adresmutatie(), resp);
    case v1::Event::kVrijstelling: return stub.MeldVrijstelling(&ctx, e.vrijstelling(), resp);
    default: return grpc::Status(grpc::INVALID_ARGUMENT, "test bug: empty event");
  }
}

absl::StatusOr<std::vector<kafka::InRecord>> ReadTopic(const std::string& bootstrap, std::string_view topic) {
  kafka::ClientOptions options;
  options.bootstrap_servers = bootstrap;
  options.client_id = "inbeeld-integration-test";
  auto partitions = kafka::PartitionCount(options, topic, absl::Seconds(60));
  if (!partitions.ok()) return partitions.status();
  std::vector<kafka::InRecord> records;
  for (int32_t p = 0; p < *partitions; ++p) {
    absl::Status s = kafka::ReadPartitionToEnd(
        options, kafka::TopicPartition{std::string(topic), p}, 0,
        [&](const kafka::InRecord& r) { records.push_back(r); }, absl::Seconds(60));
    if (!s.ok()) return s;
  }
  return records;
}

absl::StatusOr<std::string> GenericUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                                             const std::string& method, const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  grpc::ByteBuffer response;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(&ctx, method, ToBuffer(request), &cq);
  call->StartCall();
  int tag = 0;
  call->Finish(&response, &status, &tag);
  Await(cq, &tag);
  cq.Shutdown();
  void* ignored_tag;
  bool ignored_ok;
  while (cq.Next(&ignored_tag, &ignored_ok)) {
  }
  if (!status.ok()) return ToAbsl(status);
  return FromBuffer(response);
}

absl::StatusOr<int> HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  // HealthCheckRequest { string service = 1; }
  auto resp = GenericUnaryCall(channel, "/grpc.health.v1.Health/Check",
                               service.empty() ? std::string() : StringField(1, service));
  if (!resp.ok()) return resp.status();
  // HealthCheckResponse { ServingStatus status = 1; } (0 is not on the wire).
  UnknownFieldSet fields;
  if (!fields.ParseFromString(*resp)) return absl::InternalError("undecodable HealthCheckResponse");
  int status = 0;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == 1 && fields.field(i).type() == UnknownField::TYPE_VARINT) {
      status = static_cast<int>(fields.field(i).varint());
    }
  }
  return status;
}

absl::StatusOr<std::vector<std::string>> ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  auto call = stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  int start_tag = 0, write_tag = 0, done_tag = 0, read_tag = 0, finish_tag = 0;
  grpc::ByteBuffer response;
  grpc::Status status;
  bool read_ok = false;
  call->StartCall(&start_tag);
  if (Await(cq, &start_tag)) {
    // ServerReflectionRequest { string list_services = 7; }
    call->Write(ToBuffer(StringField(7, "*")), &write_tag);
    if (Await(cq, &write_tag)) {
      call->WritesDone(&done_tag);
      Await(cq, &done_tag);
      call->Read(&response, &read_tag);
      read_ok = Await(cq, &read_tag);
    }
  }
  call->Finish(&status, &finish_tag);
  Await(cq, &finish_tag);
  cq.Shutdown();
  void* ignored_tag;
  bool ignored_ok;
  while (cq.Next(&ignored_tag, &ignored_ok)) {
  }
  if (!status.ok()) return ToAbsl(status);
  if (!read_ok) return absl::InternalError("reflection stream ended without a response");
  // ServerReflectionResponse { ListServiceResponse list_services_response = 6; }
  // ListServiceResponse { repeated ServiceResponse service = 1; }
  // ServiceResponse { string name = 1; }
  UnknownFieldSet top;
  if (!top.ParseFromString(FromBuffer(response))) return absl::InternalError("undecodable reflection response");
  std::vector<std::string> names;
  for (int i = 0; i < top.field_count(); ++i) {
    if (top.field(i).number() == 7) return absl::InternalError("reflection answered with an error_response");
    if (top.field(i).number() != 6 || top.field(i).type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    UnknownFieldSet list;
    if (!list.ParseFromString(top.field(i).length_delimited())) return absl::InternalError("bad list");
    for (int j = 0; j < list.field_count(); ++j) {
      if (list.field(j).number() != 1 || list.field(j).type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
      UnknownFieldSet service;
      if (!service.ParseFromString(list.field(j).length_delimited())) return absl::InternalError("bad service");
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1 && service.field(k).type() == UnknownField::TYPE_LENGTH_DELIMITED) {
          names.push_back(service.field(k).length_delimited());
        }
      }
    }
  }
  return names;
}

absl::StatusOr<std::string> HttpGet(const std::string& address, const std::string& path) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError("bad address " + address);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError("not an IPv4 address: " + address);
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  timeval tv{30, 0};  // bounds a hang only
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError("cannot connect to " + address);
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", address, "\r\n\r\n");
  if (send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("cannot send to " + address);
  }
  std::string response;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || body == std::string::npos) {
    return absl::InternalError("not an HTTP response from " + address);
  }
  if (response.find(" 200 ") > response.find("\r\n")) {
    return absl::InternalError("HTTP error: " + response.substr(0, response.find("\r\n")));
  }
  return response.substr(body + 4);
}

std::optional<double> MetricValue(const std::string& text, const std::string& name,
                                  const std::map<std::string, std::string>& labels) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    std::map<std::string, std::string> got;
    if (absl::ConsumePrefix(&line, "{")) {
      const size_t end = line.find("} ");
      if (end == absl::string_view::npos) continue;
      // Label values of these metrics hold no commas, quotes or escapes.
      for (absl::string_view pair : absl::StrSplit(line.substr(0, end), ',', absl::SkipEmpty())) {
        std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
        got[kv.first] = std::string(absl::StripSuffix(absl::StripPrefix(kv.second, "\""), "\""));
      }
      line.remove_prefix(end + 1);
    } else if (!absl::ConsumePrefix(&line, " ")) {
      continue;  // a longer metric name
    }
    if (got != labels) continue;
    double value = 0;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(line), &value)) return value;
  }
  return std::nullopt;
}

double MetricSum(const std::string& text, const std::string& name) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name) || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) sum += v;
  }
  return sum;
}

}  // namespace inbeeld::integration

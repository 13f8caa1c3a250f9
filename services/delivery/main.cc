// inbeeld-delivery: the Subscribe stream for leerplicht organisations.
// Process contract: TEAM.md ("Process contract for service binaries").
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "inbeeld/delivery/metrics.h"
#include "inbeeld/delivery/organisatie_identiteit.h"
#include "inbeeld/delivery/signaal_service.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/util/allocator.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"

namespace {

using inbeeld::util::LogError;
using inbeeld::util::LogInfo;

int Fail(std::string_view what, const absl::Status& status) {
  LogError(what, {{"error", status.ToString()}});
  return 1;
}

int Run(int argc, char** argv) {
  CLI::App app("The Subscribe stream for leerplicht organisations.", "inbeeld-delivery");
  inbeeld::util::ServiceFlags flags;
  flags.kafka = "127.0.0.1:9092";
  flags.grpc_listen = "127.0.0.1:0";
  flags.metrics_listen = "127.0.0.1:0";
  flags.Add(app, /*grpc=*/true);
  std::string organisaties_path = "organisaties.csv";
  int64_t buffer_size = 1000;
  absl::Duration slow_timeout = absl::Seconds(30);
  inbeeld::util::AddOption(app, "organisaties", organisaties_path, "organisation table: OIN per organisation (CSV; relative: below --config-dir)");
  inbeeld::util::AddOption(app, "buffer-size", buffer_size, "signals buffered per subscriber")
      ->check(inbeeld::util::IntegerIn(1));
  inbeeld::util::AddDuration(app, "slow-subscriber-timeout", slow_timeout,
                             "a subscriber whose buffer stays full this long is cut off");
  int64_t repeat_window = 5000;
  bool shared_reader = true;
  inbeeld::util::AddOption(app, "repeat-window", repeat_window,
                           "signaal_ids remembered per reader to drop repeats (records)")
      ->check(inbeeld::util::IntegerIn(0));
  inbeeld::util::AddSwitch(app, "shared-reader", shared_reader,
                           "serve attached subscribers from one shared tail reader (false: a Kafka reader per subscription)");
  if (auto exit = inbeeld::util::ParseFlags(app, argc, argv, std::cout, std::cerr)) return *exit;
  inbeeld::util::InitLogging("delivery", flags.log_level);

  absl::StatusOr<std::map<std::string, std::string>> kafka_extra =
      inbeeld::kafka::ParseKafkaConfig(flags.kafka_config);
  if (!kafka_extra.ok()) {
    LogError("bad --kafka-config", {{"error", kafka_extra.status().ToString()}});
    return 2;
  }
  const std::string kafka = flags.kafka;

  absl::StatusOr<inbeeld::delivery::OrganisatieIdentiteit> identiteit =
      inbeeld::delivery::OrganisatieIdentiteit::LoadCsv(flags.ConfigFile(organisaties_path));
  if (!identiteit.ok()) {
    LogError("cannot load the organisation table", {{"error", identiteit.status().ToString()}});
    return 2;
  }
  LogInfo("organisation table loaded", {{"path", flags.ConfigFile(organisaties_path)},
                                        {"oins", absl::StrCat(identiteit->size())}});

  if (absl::Status checked = flags.CheckTls(); !checked.ok()) {
    LogError("TLS configuration", {{"error", std::string(checked.message())}});
    return 2;
  }
  inbeeld::grpc_util::TlsOptions tls;
  tls.plaintext = flags.tls.plaintext;
  tls.cert_file = flags.tls.cert;
  tls.key_file = flags.tls.key;
  tls.ca_file = flags.tls.ca;
  tls.require_client_cert = true;
  if (tls.plaintext) {
    inbeeld::util::LogWarn(
        "PLAINTEXT mode: no TLS, organisations are not authenticated (development only)");
  }

  // Before any thread starts, so that only the main thread takes SIGTERM.
  inbeeld::util::DisableMutexDeadlockDetection();
  inbeeld::util::BlockShutdownSignals();

  absl::StatusOr<std::unique_ptr<inbeeld::observability::MetricsServer>> metrics_server =
      inbeeld::observability::MetricsServer::Start(
          flags.metrics_listen);
  if (!metrics_server.ok()) return Fail("cannot start the metrics server", metrics_server.status());

  inbeeld::delivery::DeliveryMetrics metrics(inbeeld::observability::Registry());
  inbeeld::delivery::SignaalServiceOptions options;
  options.kafka.bootstrap_servers = kafka;
  options.kafka.client_id = "inbeeld-delivery";
  options.kafka.on_stats = inbeeld::kafka::ExportStats;  // broker round trip per reader
  options.kafka.extra = *std::move(kafka_extra);
  options.slow_subscriber_timeout = slow_timeout;
  options.buffer_capacity = static_cast<size_t>(buffer_size);
  options.repeat_window = repeat_window;
  options.share_reader = shared_reader;
  options.plaintext = flags.tls.plaintext;
  inbeeld::delivery::SignaalServiceImpl service(
      options,
      std::make_shared<const inbeeld::delivery::OrganisatieIdentiteit>(*std::move(identiteit)),
      metrics);

  // --health-listen: plaintext grpc.health.v1 only, for the kubelet's probe.
  inbeeld::grpc_util::ServerOptions server_options;
  server_options.service_names = {std::string(inbeeld::v1::SignaalService::service_full_name())};
  server_options.health_listen = flags.health_listen;
  absl::StatusOr<std::unique_ptr<inbeeld::grpc_util::Server>> server =
      inbeeld::grpc_util::Server::Start(flags.grpc_listen, tls,
                                        {&service}, server_options);
  if (!server.ok()) return Fail("cannot start the gRPC server", server.status());

  const std::string grpc_address = (*server)->address();
  const std::string metrics_address = (*metrics_server)->address();
  const std::string health_address = (*server)->health_address();
  LogInfo("delivery ready",
          {{"grpc", grpc_address}, {"metrics", metrics_address}, {"health", health_address}, {"allocator", inbeeld::util::AllocatorName()}});
  if (const std::string& ready = flags.ready_file; !ready.empty()) {
    std::map<std::string, std::string> fields = {
        {"service", "delivery"}, {"grpc", grpc_address}, {"metrics", metrics_address}};
    if (!health_address.empty()) fields["health"] = health_address;
    absl::Status written = inbeeld::util::WriteReadyFile(ready, fields);
    if (!written.ok()) return Fail("cannot write the ready file", written);
  }

  const int signal = inbeeld::util::WaitForShutdownSignal();
  LogInfo("shutting down", {{"signal", absl::StrCat(signal)}});
  // Streams are endless: end them first (clients resume from their cursor),
  // then the server drains what is left quickly.
  service.Stop();
  (*server)->Shutdown(absl::Seconds(5));
  LogInfo("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }

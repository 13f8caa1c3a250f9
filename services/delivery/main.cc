// inbeeld-delivery: the Subscribe stream for leerplicht organisations.
// Process contract: TEAM.md ("Process contract for service binaries").
#include <cstdio>
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
#include "inbeeld/util/config.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"

// The source tree's table, so that `inbeeld run` works from any directory;
// deployments pass --organisaties (or INBEELD_ORGANISATIES).
#ifndef INBEELD_DEFAULT_CONFIG_DIR
#define INBEELD_DEFAULT_CONFIG_DIR "deploy/config"
#endif

namespace {

using inbeeld::util::LogError;
using inbeeld::util::LogInfo;

int Fail(std::string_view what, const absl::Status& status) {
  LogError(what, {{"error", status.ToString()}});
  return 1;
}

int Run(int argc, char** argv) {
  absl::StatusOr<inbeeld::util::Config> config = inbeeld::util::Config::Parse(
      argc, argv,
      {"kafka", "grpc-listen", "metrics-listen", "ready-file", "plaintext", "tls-cert", "tls-key",
       "tls-ca", "pseudonym-secret", "log-level", "organisaties", "buffer-size", "health-listen",
       "kafka-config", "slow-subscriber-timeout", "repeat-window", "shared-reader"});
  if (!config.ok()) {
    std::fprintf(stderr, "inbeeld-delivery: %s\n", config.status().ToString().c_str());
    return 2;
  }
  inbeeld::util::InitLogging("delivery", config->GetString("log-level", ""));

  absl::StatusOr<bool> plaintext = config->GetBool("plaintext", false);
  absl::StatusOr<int64_t> buffer_size = config->GetInt("buffer-size", 1000);
  absl::StatusOr<int64_t> repeat_window = config->GetInt("repeat-window", 5000);
  absl::StatusOr<bool> shared_reader = config->GetBool("shared-reader", true);
  absl::StatusOr<absl::Duration> slow_timeout =
      config->GetDuration("slow-subscriber-timeout", absl::Seconds(30));
  absl::StatusOr<std::map<std::string, std::string>> kafka_extra =
      inbeeld::kafka::ParseKafkaConfig(config->GetString("kafka-config", ""));
  if (!plaintext.ok()) return Fail("bad flag", plaintext.status());
  if (!slow_timeout.ok()) return Fail("bad flag", slow_timeout.status());
  if (!kafka_extra.ok()) return Fail("bad --kafka-config", kafka_extra.status());
  if (!buffer_size.ok() || *buffer_size < 1) {
    return Fail("bad flag", absl::InvalidArgumentError("--buffer-size must be a positive integer"));
  }
  if (!shared_reader.ok()) return Fail("bad flag", shared_reader.status());
  if (!repeat_window.ok() || *repeat_window < 0) {
    return Fail("bad flag", absl::InvalidArgumentError("--repeat-window must be a number of records >= 0"));
  }
  const std::string kafka = config->GetString("kafka", "127.0.0.1:9092");
  const std::string organisaties_path =
      config->GetString("organisaties", INBEELD_DEFAULT_CONFIG_DIR "/organisaties.csv");

  absl::StatusOr<inbeeld::delivery::OrganisatieIdentiteit> identiteit =
      inbeeld::delivery::OrganisatieIdentiteit::LoadCsv(organisaties_path);
  if (!identiteit.ok()) return Fail("cannot load the organisation table", identiteit.status());
  LogInfo("organisation table loaded", {{"path", organisaties_path},
                                        {"oins", absl::StrCat(identiteit->size())}});

  inbeeld::grpc_util::TlsOptions tls;
  tls.plaintext = *plaintext;
  tls.cert_file = config->GetString("tls-cert", "");
  tls.key_file = config->GetString("tls-key", "");
  tls.ca_file = config->GetString("tls-ca", "");
  tls.require_client_cert = true;
  if (tls.plaintext) {
    inbeeld::util::LogWarn(
        "PLAINTEXT mode: no TLS, organisations are not authenticated (development only)");
  } else if (tls.cert_file.empty() || tls.key_file.empty() || tls.ca_file.empty()) {
    return Fail("TLS configuration", absl::InvalidArgumentError(
                                         "--tls-cert, --tls-key and --tls-ca are required "
                                         "(or --plaintext for local development)"));
  }

  // Before any thread starts, so that only the main thread takes SIGTERM.
  inbeeld::util::BlockShutdownSignals();

  absl::StatusOr<std::unique_ptr<inbeeld::observability::MetricsServer>> metrics_server =
      inbeeld::observability::MetricsServer::Start(
          config->GetString("metrics-listen", "127.0.0.1:0"));
  if (!metrics_server.ok()) return Fail("cannot start the metrics server", metrics_server.status());

  inbeeld::delivery::DeliveryMetrics metrics(inbeeld::observability::Registry());
  inbeeld::delivery::SignaalServiceOptions options;
  options.kafka.bootstrap_servers = kafka;
  options.kafka.client_id = "inbeeld-delivery";
  options.kafka.on_stats = inbeeld::kafka::ExportStats;  // broker round trip per reader
  options.kafka.extra = *std::move(kafka_extra);
  options.slow_subscriber_timeout = *slow_timeout;
  options.buffer_capacity = static_cast<size_t>(*buffer_size);
  options.repeat_window = *repeat_window;
  options.share_reader = *shared_reader;
  options.plaintext = *plaintext;
  inbeeld::delivery::SignaalServiceImpl service(
      options,
      std::make_shared<const inbeeld::delivery::OrganisatieIdentiteit>(*std::move(identiteit)),
      metrics);

  // --health-listen: plaintext grpc.health.v1 only, for the kubelet's probe.
  inbeeld::grpc_util::ServerOptions server_options;
  server_options.service_names = {std::string(inbeeld::v1::SignaalService::service_full_name())};
  server_options.health_listen = config->GetString("health-listen", "");
  absl::StatusOr<std::unique_ptr<inbeeld::grpc_util::Server>> server =
      inbeeld::grpc_util::Server::Start(config->GetString("grpc-listen", "127.0.0.1:0"), tls,
                                        {&service}, server_options);
  if (!server.ok()) return Fail("cannot start the gRPC server", server.status());

  const std::string grpc_address = (*server)->address();
  const std::string metrics_address = (*metrics_server)->address();
  const std::string health_address = (*server)->health_address();
  LogInfo("delivery ready",
          {{"grpc", grpc_address}, {"metrics", metrics_address}, {"health", health_address}});
  if (std::string ready = config->GetString("ready-file", ""); !ready.empty()) {
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

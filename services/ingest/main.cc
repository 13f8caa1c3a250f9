// inbeeld-ingest: the gRPC MeldingService in front of the four event topics.
#include <iostream>
#include <optional>
#include <map>
#include <string>

#include "inbeeld/grpc/server.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/util/config.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"
#include "ingest_service.h"
#include "inbeeld/kafka/kafka_metrics.h"

namespace inbeeld::ingest {
namespace {

int Main(int argc, char** argv) {
  util::BlockShutdownSignals();
  auto config = util::Config::Parse(
      argc, argv,
      {"kafka", "grpc-listen", "metrics-listen", "ready-file", "plaintext", "tls-cert", "tls-key", "tls-ca",
       "pseudonym-secret", "log-level", "produce-timeout", "dedup-window", "kafka-config", "health-listen",
       "holdback-group", "holdback-max-bytes", "holdback-max-records"});
  if (!config.ok()) {
    std::cerr << "inbeeld-ingest: " << config.status().message() << "\n";
    return 2;
  }
  util::InitLogging("ingest", config->GetString("log-level", ""));
  // Set but empty (an unfilled Kubernetes secret, `INBEELD_PSEUDONYM_SECRET=`)
  // is a deployment mistake, never a request for the development secret.
  if (config->Has("pseudonym-secret") && config->GetString("pseudonym-secret", "").empty()) {
    util::LogError("INBEELD_PSEUDONYM_SECRET / --pseudonym-secret is set but empty; refusing to start",
                   {{"hint", "set at least 16 (better 32) random bytes from the secret store"}});
    return 2;
  }
  auto secret = identity::Pseudonymizer::Create(
      config->GetString("pseudonym-secret", identity::Pseudonymizer::kDevelopmentSecret));
  if (!secret.ok()) {
    util::LogError("bad configuration", {{"error", std::string(secret.status().message())}});
    return 2;
  }
  if (!config->Has("pseudonym-secret")) {
    util::LogWarn("using the development pseudonym secret; set INBEELD_PSEUDONYM_SECRET in production");
  }
  auto timeout = config->GetDuration("produce-timeout", absl::Seconds(5));
  auto window = config->GetInt("dedup-window", 100000);
  auto plaintext = config->GetBool("plaintext", false);
  if (!timeout.ok() || !window.ok() || !plaintext.ok()) {
    util::LogError("bad configuration", {{"error", "see --produce-timeout, --dedup-window, --plaintext"}});
    return 2;
  }
  auto metrics = observability::MetricsServer::Start(config->GetString("metrics-listen", "127.0.0.1:9464"));
  if (!metrics.ok()) {
    util::LogError("cannot start metrics", {{"error", std::string(metrics.status().message())}});
    return 1;
  }
  kafka::ClientOptions kopts;
  kopts.bootstrap_servers = config->GetString("kafka", "");
  kopts.client_id = "inbeeld-ingest";
  kopts.on_stats = kafka::ExportStats;
  if (auto extra = kafka::ParseKafkaConfig(config->GetString("kafka-config", "")); extra.ok()) {
    kopts.extra = *extra;
  } else {
    util::LogError("bad --kafka-config", {{"error", std::string(extra.status().message())}});
    return 2;
  }
  // Holdback (docs/OPERATIONS.md, "Backlog and retention"): created before
  // the producer, whose last delivery reports may still reach it.
  auto holdback_bytes = config->GetInt("holdback-max-bytes", 0);
  auto holdback_records = config->GetInt("holdback-max-records", 0);
  if (!holdback_bytes.ok() || !holdback_records.ok() || *holdback_bytes < 0 || *holdback_records < 0) {
    util::LogError("bad configuration", {{"error", "--holdback-max-bytes and --holdback-max-records must be >= 0"}});
    return 2;
  }
  std::unique_ptr<kafka::BacklogMonitor> backlog;
  if (*holdback_bytes > 0 || *holdback_records > 0) {
    kafka::BacklogOptions bo;
    bo.kafka = kopts;
    bo.kafka.client_id = "inbeeld-ingest-backlog";
    bo.kafka.on_stats = nullptr;
    bo.group_id = config->GetString("holdback-group", "inbeeld-signaling");
    for (auto t : kafka::kEventTopics) bo.topics.emplace_back(t);
    bo.max_backlog_bytes = *holdback_bytes;
    bo.max_backlog_records = *holdback_records;
    auto started = kafka::BacklogMonitor::Start(bo);
    if (!started.ok()) {
      util::LogError("cannot start the backlog monitor", {{"error", std::string(started.status().message())}});
      return 1;
    }
    backlog = std::move(*started);
    util::LogInfo("holdback on", {{"group", bo.group_id},
                                  {"max_backlog_bytes", std::to_string(bo.max_backlog_bytes)},
                                  {"max_backlog_records", std::to_string(bo.max_backlog_records)}});
  }
  auto producer = kafka::Producer::Create(kopts);
  if (!producer.ok()) {
    util::LogError("cannot create Kafka producer", {{"error", std::string(producer.status().message())}});
    return 2;
  }
  util::SystemClock clock;
  IngestOptions ingest_options{*timeout, static_cast<size_t>(*window), 10000, nullptr, backlog.get()};
  std::optional<delivery::OrganisatieIdentiteit> bronnen;
  if (!*plaintext) {
    // Only known schools, DUO and gemeenten publish (OIN in the client certificate).
    const std::string path = config->GetString("bronnen", INBEELD_DEFAULT_BRONNEN);
    auto loaded = delivery::OrganisatieIdentiteit::LoadCsv(path);
    if (!loaded.ok()) {
      util::LogError("cannot load --bronnen", {{"path", path}, {"error", std::string(loaded.status().message())}});
      return 2;
    }
    bronnen.emplace(std::move(*loaded));
    ingest_options.bronnen = &*bronnen;
  }
  IngestService service(**producer, *secret, clock, ingest_options);
  grpc_util::TlsOptions tls{*plaintext, config->GetString("tls-cert", ""), config->GetString("tls-key", ""),
                            config->GetString("tls-ca", ""), true};
  if (tls.plaintext) util::LogWarn("gRPC without TLS (--plaintext): local development only");
  grpc_util::ServerOptions server_options;
  server_options.service_names = {std::string(v1::MeldingService::service_full_name())};
  server_options.health_listen = config->GetString("health-listen", "");
  auto server = grpc_util::Server::Start(config->GetString("grpc-listen", "127.0.0.1:50051"), tls, {&service},
                                         server_options);
  if (!server.ok()) {
    util::LogError("cannot start gRPC", {{"error", std::string(server.status().message())}});
    return 1;
  }
  util::LogInfo("ingest ready", {{"grpc", (*server)->address()},
                                 {"metrics", (*metrics)->address()},
                                 {"health", (*server)->health_address()}});
  if (config->Has("ready-file")) {
    std::map<std::string, std::string> ready = {
        {"service", "ingest"}, {"grpc", (*server)->address()}, {"metrics", (*metrics)->address()}};
    if ((*server)->health_port() != 0) ready["health"] = (*server)->health_address();
    if (auto s = util::WriteReadyFile(config->GetString("ready-file", ""), ready); !s.ok()) {
      util::LogError("cannot write ready file", {{"error", std::string(s.message())}});
      return 1;
    }
  }
  int sig = util::WaitForShutdownSignal();
  util::LogInfo("shutting down", {{"signal", std::to_string(sig)}});
  // Health NOT_SERVING, stop accepting, let in-flight requests finish (they
  // wait for their Kafka acknowledgement), then flush what is left.
  // Budget: 6 s drain + 2 s flush + 0.5 s in the producer's destructor < 10 s.
  (*server)->Shutdown(absl::Seconds(6));
  if (auto s = (*producer)->Flush(absl::Seconds(2)); !s.ok()) {
    util::LogWarn("producer flush incomplete", {{"error", std::string(s.message())}});
  }
  util::LogInfo("stopped");
  return 0;
}

}  // namespace
}  // namespace inbeeld::ingest

int main(int argc, char** argv) { return inbeeld::ingest::Main(argc, argv); }

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
#include "inbeeld/util/allocator.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"
#include "inbeeld/ingest/ingest_service.h"
#include "inbeeld/kafka/kafka_metrics.h"

namespace inbeeld::ingest {
namespace {

int Main(int argc, char** argv) {
  util::DisableMutexDeadlockDetection();
  util::BlockShutdownSignals();
  CLI::App app("The gRPC MeldingService in front of the four event topics.", "inbeeld-ingest");
  util::ServiceFlags flags;
  flags.Add(app, /*grpc=*/true);
  absl::Duration produce_timeout = absl::Seconds(5);
  int64_t dedup_window = 100000;
  std::string bronnen_path = "bronnen.csv";
  util::AddDuration(app, "produce-timeout", produce_timeout, "how long a request waits for Kafka's acknowledgement");
  util::AddOption(app, "dedup-window", dedup_window, "recent event ids remembered to answer repeats")
      ->check(util::IntegerIn(1));
  util::AddOption(app, "bronnen", bronnen_path, "OINs allowed to publish (CSV; relative: below --config-dir; not read with --plaintext)");
  // Holdback (docs/OPERATIONS.md, "Backlog and retention").
  int64_t holdback_bytes = 0;
  int64_t holdback_records = 0;
  std::string holdback_group = "inbeeld-signaling";
  util::AddOption(app, "holdback-max-bytes", holdback_bytes, "hold back new events past this backlog (0: off)")
      ->check(util::IntegerIn(0));
  util::AddOption(app, "holdback-max-records", holdback_records, "hold back new events past this many records (0: off)")
      ->check(util::IntegerIn(0));
  util::AddOption(app, "holdback-group", holdback_group, "the consumer group whose backlog counts");
  if (auto exit = util::ParseFlags(app, argc, argv, std::cout, std::cerr)) return *exit;
  util::InitLogging("ingest", flags.log_level);
  // Set but empty (an unfilled Kubernetes secret, `INBEELD_PSEUDONYM_SECRET=`)
  // is a deployment mistake, never a request for the development secret.
  if (flags.PseudonymSecretSet() && flags.pseudonym_secret.empty()) {
    util::LogError("INBEELD_PSEUDONYM_SECRET / --pseudonym-secret is set but empty; refusing to start",
                   {{"hint", "set at least 16 (better 32) random bytes from the secret store"}});
    return 2;
  }
  const std::string secret_value = flags.PseudonymSecretSet()
                                       ? flags.pseudonym_secret
                                       : std::string(identity::Pseudonymizer::kDevelopmentSecret);
  auto secret = identity::Pseudonymizer::Create(secret_value);
  if (!secret.ok()) {
    util::LogError("bad configuration", {{"error", std::string(secret.status().message())}});
    return 2;
  }
  // Also when passed explicitly (inbeeld run passes it to every service).
  if (secret_value == identity::Pseudonymizer::kDevelopmentSecret) {
    util::LogWarn("using the development pseudonym secret; set INBEELD_PSEUDONYM_SECRET in production");
  }
  // Every file is checked before anything starts: a missing one is a
  // configuration error (exit 2), not a runtime failure.
  if (absl::Status s = flags.CheckTls(); !s.ok()) {
    util::LogError("bad configuration", {{"error", std::string(s.message())}});
    return 2;
  }
  std::optional<delivery::OrganisatieIdentiteit> bronnen;
  if (!flags.tls.plaintext) {
    // Only known schools, DUO and gemeenten publish (OIN in the client certificate).
    auto loaded = delivery::OrganisatieIdentiteit::LoadCsv(flags.ConfigFile(bronnen_path));
    if (!loaded.ok()) {
      util::LogError("cannot load --bronnen", {{"path", flags.ConfigFile(bronnen_path)}, {"error", std::string(loaded.status().message())}});
      return 2;
    }
    bronnen.emplace(std::move(*loaded));
  }

  auto metrics = observability::MetricsServer::Start(flags.metrics_listen);
  if (!metrics.ok()) {
    util::LogError("cannot start metrics", {{"error", std::string(metrics.status().message())}});
    return 1;
  }
  kafka::ClientOptions kopts;
  kopts.bootstrap_servers = flags.kafka;
  kopts.client_id = "inbeeld-ingest";
  kopts.on_stats = kafka::ExportStats;
  if (auto extra = kafka::ParseKafkaConfig(flags.kafka_config); extra.ok()) {
    kopts.extra = *extra;
  } else {
    util::LogError("bad --kafka-config", {{"error", std::string(extra.status().message())}});
    return 2;
  }
  // Holdback (docs/OPERATIONS.md, "Backlog and retention"): created before
  // the producer, whose last delivery reports may still reach it.
  std::unique_ptr<kafka::BacklogMonitor> backlog;
  if (holdback_bytes > 0 || holdback_records > 0) {
    kafka::BacklogOptions bo;
    bo.kafka = kopts;
    bo.kafka.client_id = "inbeeld-ingest-backlog";
    bo.kafka.on_stats = nullptr;
    bo.group_id = holdback_group;
    for (auto t : kafka::kEventTopics) bo.topics.emplace_back(t);
    bo.max_backlog_bytes = holdback_bytes;
    bo.max_backlog_records = holdback_records;
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
  IngestOptions ingest_options{produce_timeout, static_cast<size_t>(dedup_window), 10000, nullptr, backlog.get()};
  if (bronnen.has_value()) ingest_options.bronnen = &*bronnen;
  IngestService service(**producer, *secret, clock, ingest_options);
  grpc_util::TlsOptions tls{flags.tls.plaintext, flags.tls.cert, flags.tls.key, flags.tls.ca, true};
  if (tls.plaintext) util::LogWarn("gRPC without TLS (--plaintext): local development only");
  grpc_util::ServerOptions server_options;
  server_options.service_names = {std::string(v1::MeldingService::service_full_name())};
  server_options.health_listen = flags.health_listen;
  auto server = grpc_util::Server::Start(flags.grpc_listen, tls, {&service},
                                         server_options);
  if (!server.ok()) {
    util::LogError("cannot start gRPC", {{"error", std::string(server.status().message())}});
    return 1;
  }
  util::LogInfo("ingest ready", {{"grpc", (*server)->address()},
                                 {"metrics", (*metrics)->address()},
                                 {"health", (*server)->health_address()},
                                 {"allocator", util::AllocatorName()}});
  if (!flags.ready_file.empty()) {
    std::map<std::string, std::string> ready = {
        {"service", "ingest"}, {"grpc", (*server)->address()}, {"metrics", (*metrics)->address()}};
    if ((*server)->health_port() != 0) ready["health"] = (*server)->health_address();
    if (auto s = util::WriteReadyFile(flags.ready_file, ready); !s.ok()) {
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

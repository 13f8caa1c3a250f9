// inbeeld-routing: inbeeld.signalen.v1 → inbeeld.aflevering.v1 by organisation.
// Thin: flags, wiring, process contract (TEAM.md). No gRPC server; metrics only.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/routing/routing_service.h"
#include "inbeeld/routing/routing_store.h"
#include "inbeeld/routing/tabel_watcher.h"
#include "inbeeld/util/config.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"

#ifndef INBEELD_DEFAULT_CONFIG_DIR
#define INBEELD_DEFAULT_CONFIG_DIR "deploy/config"
#endif

namespace inbeeld::routing {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

int Main(int argc, char** argv) {
  util::BlockShutdownSignals();
  auto config = util::Config::Parse(
      argc, argv,
      {"kafka", "grpc-listen", "metrics-listen", "ready-file", "plaintext", "tls-cert", "tls-key",
       "tls-ca", "pseudonym-secret", "log-level", "kafka-config", "state-dir", "organisaties",
       "herindelingen", "reload-interval", "batch-size", "batch-timeout", "accept-loss", "dedupe-max-age",
       "dedupe-max-entries"});
  if (!config.ok()) {
    std::cerr << "inbeeld-routing: " << config.status().message() << "\n";
    return 2;
  }
  util::InitLogging("routing", config->GetString("log-level", ""));
  // --grpc-listen, --plaintext, --tls-* and --pseudonym-secret are accepted for
  // the common process contract; routing serves no gRPC and never sees an
  // identity in clear (it routes by woongemeente only).
  auto reload = config->GetDuration("reload-interval", absl::Seconds(5));
  auto batch_size = config->GetInt("batch-size", 500);
  auto batch_timeout = config->GetDuration("batch-timeout", absl::Milliseconds(200));
  if (!reload.ok() || !batch_size.ok() || !batch_timeout.ok() || *batch_size <= 0) {
    util::LogError("bad configuration",
                   {{"error", "see --reload-interval, --batch-size, --batch-timeout"}});
    return 2;
  }
  const std::string bootstrap = config->GetString("kafka", "");
  if (bootstrap.empty()) {
    util::LogError("bad configuration", {{"error", "--kafka is required"}});
    return 2;
  }
  auto extra = kafka::ParseKafkaConfig(config->GetString("kafka-config", ""));
  if (!extra.ok()) {
    util::LogError("bad --kafka-config", {{"error", Msg(extra.status())}});
    return 2;
  }

  TabelBestanden bestanden{
      config->GetString("organisaties", INBEELD_DEFAULT_CONFIG_DIR "/organisaties.csv"),
      config->GetString("herindelingen", INBEELD_DEFAULT_CONFIG_DIR "/herindelingen.csv")};
  auto watcher = TabelWatcher::Start(bestanden, *reload, observability::Registry());
  if (!watcher.ok()) {
    util::LogError("cannot load the organisation table", {{"error", Msg(watcher.status())}});
    return 2;
  }
  util::LogInfo("organisation table loaded",
                {{"organisaties", bestanden.organisaties.string()},
                 {"gemeenten", absl::StrCat((*watcher)->Current()->regels().size())}});

  RoutingStoreOptions store_options;
  store_options.registry = &observability::Registry();
  auto max_age = config->GetDuration("dedupe-max-age", store_options.bound.max_age);
  auto max_entries = config->GetInt("dedupe-max-entries", store_options.bound.max_entries);
  if (!max_age.ok() || !max_entries.ok() || *max_age <= absl::ZeroDuration() || *max_entries <= 0) {
    util::LogError("bad configuration",
                   {{"error", "--dedupe-max-age and --dedupe-max-entries must be positive"}});
    return 2;
  }
  store_options.bound = {*max_age, *max_entries};
  auto store = RoutingStore::Open(config->GetString("state-dir", "routing-state"), store_options);
  if (!store.ok()) {
    util::LogError("cannot open the state store", {{"error", Msg(store.status())}});
    return 1;
  }
  auto metrics =
      observability::MetricsServer::Start(config->GetString("metrics-listen", "127.0.0.1:9464"));
  if (!metrics.ok()) {
    util::LogError("cannot start metrics", {{"error", Msg(metrics.status())}});
    return 1;
  }

  auto accepted = kafka::ParseAcceptedLosses(config->GetString("accept-loss", ""));
  if (!accepted.ok()) {
    util::LogError("bad --accept-loss", {{"error", Msg(accepted.status())}});
    return 2;
  }
  RoutingServiceOptions options;
  options.accepted_losses = *accepted;
  options.kafka.bootstrap_servers = bootstrap;
  options.kafka.client_id = "inbeeld-routing";
  options.kafka.on_stats = kafka::ExportStats;
  options.kafka.extra = *extra;
  options.max_batch_records = static_cast<int>(*batch_size);
  options.max_batch_time = *batch_timeout;
  auto service = RoutingService::Create(options, **store, (*watcher)->Bron(),
                                        observability::Registry());
  if (!service.ok()) {
    util::LogError("cannot create the Kafka clients", {{"error", Msg(service.status())}});
    return 2;
  }
  (*service)->Start();

  util::LogInfo("routing ready", {{"metrics", (*metrics)->address()}});
  if (config->Has("ready-file")) {
    if (auto s = util::WriteReadyFile(config->GetString("ready-file", ""),
                                      {{"service", "routing"}, {"metrics", (*metrics)->address()}});
        !s.ok()) {
      util::LogError("cannot write ready file", {{"error", Msg(s)}});
      return 1;
    }
  }

  int exit_code = 0;
  while (true) {
    int sig = util::WaitForShutdownSignal(absl::Seconds(1));
    if (sig != 0) {
      util::LogInfo("shutting down", {{"signal", std::to_string(sig)}});
      break;
    }
    if (!(*service)->status().ok()) {
      exit_code = 1;
      break;
    }
  }
  // Finish the batch in hand (produce, flush, commit), leave the group.
  if (absl::Status s = (*service)->Stop(); !s.ok()) {
    util::LogError("routing loop failed", {{"error", Msg(s)}});
    exit_code = 1;
  }
  service->reset();
  util::LogInfo("stopped");
  return exit_code;
}

}  // namespace
}  // namespace inbeeld::routing

int main(int argc, char** argv) { return inbeeld::routing::Main(argc, argv); }

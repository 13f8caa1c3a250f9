// inbeeld-routing: inbeeld.signalen.v1 → inbeeld.aflevering.v1 by organisation.
// Thin: flags, wiring, process contract (TEAM.md). No gRPC server; metrics only.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "inbeeld/kafka/exactly_once_flags.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/routing/routing_service.h"
#include "inbeeld/routing/routing_store.h"
#include "inbeeld/routing/tabel_watcher.h"
#include "inbeeld/util/allocator.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"

namespace inbeeld::routing {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

int Main(int argc, char** argv) {
  util::DisableMutexDeadlockDetection();
  util::BlockShutdownSignals();
  CLI::App app("Routes inbeeld.signalen.v1 to inbeeld.aflevering.v1 by organisation.", "inbeeld-routing");
  util::ServiceFlags flags;
  // --grpc-listen, --plaintext, --tls-* and --pseudonym-secret are accepted for
  // the common process contract (one environment for every service); routing
  // serves no gRPC and never sees an identity in clear (it routes by woongemeente only).
  flags.Add(app, /*grpc=*/true);
  std::string state_dir;
  std::string organisaties = "organisaties.csv";
  std::string herindelingen = "herindelingen.csv";
  absl::Duration reload = absl::Seconds(5);
  // Larger batches spread the per-batch costs (commit, acknowledgement wait,
  // dedupe write) over more signals; the batch timeout still bounds latency.
  int64_t batch_size = 2000;
  absl::Duration batch_timeout = absl::Milliseconds(200);
  util::AddOption(app, "state-dir", state_dir, "RocksDB state (offsets, routed signals); empty: <data-dir>/routing");
  util::AddOption(app, "organisaties", organisaties, "organisation table (CSV; relative: below --config-dir)");
  util::AddOption(app, "herindelingen", herindelingen, "municipal mergers table (CSV; relative: below --config-dir)");
  util::AddDuration(app, "reload-interval", reload, "how often the tables are checked for changes");
  util::AddOption(app, "batch-size", batch_size, "records per transaction at most")->check(util::IntegerIn(1));
  util::AddDuration(app, "batch-timeout", batch_timeout, "longest wait to fill a batch");
  int64_t batches_in_flight = 4;
  util::AddOption(app, "batches-in-flight", batches_in_flight,
                  "batches whose outputs may be in flight at once (1: each batch committed before the next)")
      ->check(util::IntegerIn(1));
  std::string accept_loss;
  util::AddOption(app, "accept-loss", accept_loss,
                  "topic/partition:from-to,... offsets an operator accepts as lost (docs/OPERATIONS.md)");
  std::string exactly_once = "idempotent";
  std::string instance_id;
  kafka::AddExactlyOnceFlags(app, exactly_once, instance_id);
  RoutingStoreOptions store_options;
  util::AddDuration(app, "dedupe-max-age", store_options.bound.max_age, "how long a routed signal id is remembered");
  util::AddOption(app, "dedupe-max-entries", store_options.bound.max_entries, "routed signal ids remembered at most")
      ->check(util::IntegerIn(1));
  if (auto exit = util::ParseFlags(app, argc, argv, std::cout, std::cerr)) return *exit;
  const TabelBestanden bestanden{flags.ConfigFile(organisaties), flags.ConfigFile(herindelingen)};
  util::InitLogging("routing", flags.log_level);
  const std::string bootstrap = flags.kafka;
  if (bootstrap.empty()) {
    util::LogError("bad configuration", {{"error", "--kafka is required"}});
    return 2;
  }
  auto extra = kafka::ParseKafkaConfig(flags.kafka_config);
  if (!extra.ok()) {
    util::LogError("bad --kafka-config", {{"error", Msg(extra.status())}});
    return 2;
  }

  auto watcher = TabelWatcher::Start(bestanden, reload, observability::Registry());
  if (!watcher.ok()) {
    util::LogError("cannot load the organisation table", {{"error", Msg(watcher.status())}});
    return 2;
  }
  util::LogInfo("organisation table loaded",
                {{"organisaties", bestanden.organisaties.string()},
                 {"gemeenten", absl::StrCat((*watcher)->Current()->regels().size())}});

  store_options.registry = &observability::Registry();
  if (store_options.bound.max_age <= absl::ZeroDuration()) {
    util::LogError("bad configuration", {{"error", "--dedupe-max-age must be positive"}});
    return 2;
  }
  absl::StatusOr<std::string> state = flags.StateDir("routing", state_dir);
  if (!state.ok()) {
    util::LogError("bad configuration", {{"error", Msg(state.status())}});
    return 2;
  }
  auto store = RoutingStore::Open(*state, store_options);
  if (!store.ok()) {
    util::LogError("cannot open the state store", {{"error", Msg(store.status())}});
    return 1;
  }
  auto metrics =
      observability::MetricsServer::Start(flags.metrics_listen);
  if (!metrics.ok()) {
    util::LogError("cannot start metrics", {{"error", Msg(metrics.status())}});
    return 1;
  }

  auto accepted = kafka::ParseAcceptedLosses(accept_loss);
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
  options.max_batch_records = static_cast<int>(batch_size);
  options.max_batch_time = batch_timeout;
  options.batches_in_flight = static_cast<int>(batches_in_flight);
  if (*kafka::ParseExactlyOnce(exactly_once) == kafka::ExactlyOnce::kTransactions) {
    options.transactions.transactional_id = kafka::TransactionalId(
        "inbeeld-routing", instance_id.empty() ? kafka::DefaultInstanceId(*state) : instance_id);
    util::LogInfo("exactly once with Kafka transactions", {{"transactional_id", options.transactions.transactional_id}});
  }
  auto service = RoutingService::Create(options, **store, (*watcher)->Bron(),
                                        observability::Registry());
  if (!service.ok()) {
    util::LogError("cannot create the Kafka clients", {{"error", Msg(service.status())}});
    // A bad property is a usage error; transactions the cluster refuses (init_transactions) a runtime failure.
    return absl::IsInvalidArgument(service.status()) ? 2 : 1;
  }
  (*service)->Start();

  util::LogInfo("routing ready", {{"metrics", (*metrics)->address()}, {"allocator", util::AllocatorName()}});
  if (!flags.ready_file.empty()) {
    if (auto s = util::WriteReadyFile(flags.ready_file,
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
  // Finish the batches in hand (acknowledged, committed), leave the group.
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

// inbeeld-signaling: the Leerplichtwet rules over the event topics.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/kafka/exactly_once_flags.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/kafka/resume.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/util/allocator.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"
#include "inbeeld/signaling/leerplicht_service.h"
#include "inbeeld/signaling/signaling_service.h"
#include "inbeeld/signaling/telling_service.h"


namespace inbeeld::signaling {
namespace {

std::string Err(const absl::Status& s) { return std::string(s.message()); }

int Main(int argc, char** argv) {
  util::DisableMutexDeadlockDetection();
  util::BlockShutdownSignals();
  CLI::App app("The Leerplichtwet rules over the event topics; serves LeerplichtService.", "inbeeld-signaling");
  util::ServiceFlags flags;
  flags.grpc_listen = "127.0.0.1:50053";
  flags.Add(app, /*grpc=*/true);
  SignalingOptions options;
  std::string state_dir;
  std::string group = "inbeeld-signaling";
  std::string date_file;
  bool sync_writes = true;
  util::AddOption(app, "state-dir", state_dir, "RocksDB state (per-jongere state and input offsets); empty: <data-dir>/signaling");
  util::AddOption(app, "group", group, "Kafka consumer group");
  util::AddDuration(app, "tick", options.tick, "how often the time-based rules run");
  util::AddOption(app, "date-file", date_file, "read today's date (YYYY-MM-DD) from this file (tests, demos; relative: below --config-dir)");
  util::AddOption(app, "grace-days", options.core.grace_days, "days without a school before absoluut verzuim")
      ->check(util::IntegerIn(0));
  util::AddOption(app, "buitenland-wacht-days", options.core.buitenland_wacht_days,
                  "days after emigration before the signal")
      ->check(util::IntegerIn(0));
  util::AddOption(app, "geen-nieuws-days", options.core.geen_nieuws_days, "days without news before uit beeld")
      ->check(util::IntegerIn(0));
  util::AddOption(app, "lrv-days", options.core.lrv_days, "days for the LRV report")->check(util::IntegerIn(0));
  util::AddSwitch(app, "sync-writes", sync_writes, "fsync every state commit");
  util::AddOption(app, "max-batch-records", options.max_batch_records, "records per batch at most")
      ->check(util::IntegerIn(1));
  util::AddOption(app, "batches-in-flight", options.max_batches_in_flight,
                  "batches whose outputs may be in flight at once")
      ->check(util::IntegerIn(1));
  util::AddOption(app, "apply-threads", options.apply_threads,
                  "threads that apply a batch's jongeren (each jongere on one of them)")
      ->check(util::IntegerIn(1, 64));
  std::string accept_loss;
  util::AddOption(app, "accept-loss", accept_loss,
                  "topic/partition:from-to,... offsets an operator accepts as lost (docs/OPERATIONS.md)");
  std::string exactly_once = "idempotent";
  std::string instance_id;
  kafka::AddExactlyOnceFlags(app, exactly_once, instance_id);
  std::string organisaties = "organisaties.csv";
  std::string herindelingen = "herindelingen.csv";
  util::AddOption(app, "organisaties", organisaties, "organisation table (CSV; relative: below --config-dir)");
  util::AddOption(app, "herindelingen", herindelingen, "municipal mergers table (CSV; relative: below --config-dir)");
  if (auto exit = util::ParseFlags(app, argc, argv, std::cout, std::cerr)) return *exit;
  util::InitLogging("signaling", flags.log_level);
  auto fail = [](std::string_view what, const absl::Status& s) {
    util::LogError(what, {{"error", Err(s)}});
    return 2;
  };
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
  if (!secret.ok()) return fail("bad configuration", secret.status());
  // Also when passed explicitly (inbeeld run passes it to every service).
  if (secret_value == identity::Pseudonymizer::kDevelopmentSecret) {
    util::LogWarn("using the development pseudonym secret; set INBEELD_PSEUDONYM_SECRET in production");
  }
  // Configuration first (exit 2): files, directories, lists. Then what can
  // fail at run time (exit 1): the store, the ports, Kafka.
  if (absl::Status s = flags.CheckTls(); !s.ok()) return fail("bad configuration", s);
  auto extra = kafka::ParseKafkaConfig(flags.kafka_config);
  if (!extra.ok()) return fail("bad --kafka-config", extra.status());
  auto accepted = kafka::ParseAcceptedLosses(accept_loss);
  if (!accepted.ok()) return fail("bad --accept-loss", accepted.status());
  // TellingService: the organisation table (gemeente → organisation, OIN) and
  // the herindelingen, the same files routing and delivery read.
  organisaties = flags.ConfigFile(organisaties);
  herindelingen = flags.ConfigFile(herindelingen);
  auto geladen = routing::OrganisatieTabel::Load(organisaties, herindelingen);
  if (!geladen.ok()) return fail("cannot load the organisation table", geladen.status());
  auto oins = delivery::OrganisatieIdentiteit::LoadCsv(organisaties);
  if (!oins.ok()) return fail("cannot load the organisation table", oins.status());
  auto tabel = std::make_shared<const routing::OrganisatieTabel>(*std::move(geladen));
  auto identiteit = std::make_shared<const delivery::OrganisatieIdentiteit>(*std::move(oins));
  absl::StatusOr<std::string> state = flags.StateDir("signaling", state_dir);
  if (!state.ok()) return fail("bad configuration", state.status());

  auto runtime_fail = [](std::string_view what, const absl::Status& s) {
    util::LogError(what, {{"error", Err(s)}});
    return 1;
  };
  auto store = SignalingStore::Open(*state, sync_writes);
  if (!store.ok()) return runtime_fail("cannot open state store", store.status());

  std::unique_ptr<DateSource> dates;
  if (!date_file.empty()) {
    dates = std::make_unique<FileDateSource>(flags.ConfigFile(date_file));
  } else {
    dates = std::make_unique<SystemDateSource>();
  }

  auto metrics = observability::MetricsServer::Start(flags.metrics_listen);
  if (!metrics.ok()) return runtime_fail("cannot start metrics", metrics.status());

  kafka::ClientOptions kopts;
  kopts.bootstrap_servers = flags.kafka;
  kopts.client_id = "inbeeld-signaling";
  kopts.on_stats = kafka::ExportStats;
  kopts.extra = *extra;
  kafka::TransactionOptions transactions;
  if (*kafka::ParseExactlyOnce(exactly_once) == kafka::ExactlyOnce::kTransactions) {
    options.transactions = true;
    transactions.transactional_id = kafka::TransactionalId(
        "inbeeld-signaling", instance_id.empty() ? kafka::DefaultInstanceId(*state) : instance_id);
    util::LogInfo("exactly once with Kafka transactions: one batch in flight",
                  {{"transactional_id", transactions.transactional_id}});
    // Tests only, deliberately no flag: keeps each transaction open a while (tests/kafka/txn_test.sh).
    if (const char* hold = std::getenv("INBEELD_TEST_HOLD_TRANSACTION"); hold != nullptr && *hold != '\0') {
      if (!absl::ParseDuration(hold, &options.hold_transaction) ||
          options.hold_transaction < absl::ZeroDuration()) {
        std::cerr << "inbeeld-signaling: INBEELD_TEST_HOLD_TRANSACTION: not a duration: " << hold << "\n";
        return 2;
      }
      util::LogWarn("transactions held open before each commit (tests only)",
                    {{"hold", absl::FormatDuration(options.hold_transaction)}});
    }
  }
  auto producer = kafka::Producer::Create(kopts, transactions);
  // A bad property is a configuration error; transactions the cluster refuses are a runtime failure (exit 1),
  // with librdkafka's reason.
  if (!producer.ok()) {
    if (absl::IsInvalidArgument(producer.status())) return fail("cannot create Kafka producer", producer.status());
    return runtime_fail("cannot create Kafka producer", producer.status());
  }

  // One SignalingService with its group consumer: the processing loop. A new one resumes from the stored offsets.
  struct Loop {
    std::unique_ptr<SignalingService> service;
    std::unique_ptr<kafka::Consumer> consumer;
  };
  auto new_loop = [&]() -> absl::StatusOr<Loop> {
    Loop l;
    l.service = std::make_unique<SignalingService>(**store, **producer, *secret, *dates, kopts, options);
    kafka::ConsumerOptions consumer_options = l.service->ConsumerOptionsFor(group);
    consumer_options.accepted_losses = *accepted;
    auto consumer = kafka::Consumer::Create(consumer_options);
    if (!consumer.ok()) return consumer.status();
    l.consumer = *std::move(consumer);
    return l;
  };
  absl::StatusOr<Loop> first = new_loop();
  if (!first.ok()) return fail("cannot create Kafka consumer", first.status());

  LeerplichtServiceImpl status_service(**store, *secret, *dates, options.core);
  TellingServiceImpl telling_service(**store, tabel, identiteit, *dates, options.core, flags.tls.plaintext);
  grpc_util::TlsOptions tls{flags.tls.plaintext, flags.tls.cert, flags.tls.key, flags.tls.ca, true};
  if (tls.plaintext) util::LogWarn("gRPC without TLS (--plaintext): local development only");
  grpc_util::ServerOptions server_options;
  server_options.service_names = {std::string(v1::LeerplichtService::service_full_name()),
                                  std::string(v1::TellingService::service_full_name())};
  server_options.health_listen = flags.health_listen;
  auto server = grpc_util::Server::Start(flags.grpc_listen, tls,
                                         {&status_service, &telling_service}, server_options);
  if (!server.ok()) return runtime_fail("cannot start gRPC", server.status());

  std::atomic<bool> failed{false};
  absl::Mutex loop_mu;
  bool stopping = false;                // guarded by loop_mu
  Loop* running = nullptr;              // guarded by loop_mu
  std::thread loop([&, current = *std::move(first)]() mutable {
    // A Kafka failure resumes the loop from the stored offsets (kafka/resume.h); a failure that keeps coming
    // back (a fifth within ten minutes) ends the process so that its supervisor sees it.
    kafka::ResumeBudget resumes;
    while (true) {
      {
        absl::MutexLock lock(&loop_mu);
        if (stopping) break;
        running = &current;
      }
      const absl::Status s = current.service->Run(*current.consumer);
      {
        absl::MutexLock lock(&loop_mu);
        running = nullptr;
      }
      current.consumer->Close();
      if (s.ok()) break;  // stopped
      if (!kafka::ResumableFailure(s) || !resumes.Take(absl::Now())) {
        util::LogError("signaling loop stopped; restart resumes from the stored offsets", {{"error", Err(s)}});
        failed = true;
        break;
      }
      util::LogError("signaling loop stopped by a Kafka failure; resuming from the stored offsets in 1 s",
                     {{"error", Err(s)}, {"resumes_in_10_minutes", std::to_string(resumes.Recent(absl::Now()))}});
      absl::SleepFor(absl::Seconds(1));
      current = Loop{};  // the old consumer and service go before the new ones join the group
      absl::StatusOr<Loop> next = new_loop();
      if (!next.ok()) {
        util::LogError("cannot create Kafka consumer", {{"error", Err(next.status())}});
        failed = true;
        break;
      }
      current = *std::move(next);
    }
  });
  util::LogInfo("signaling ready", {{"grpc", (*server)->address()},
                                    {"metrics", (*metrics)->address()},
                                    {"health", (*server)->health_address()},
                                    {"allocator", util::AllocatorName()}});
  if (!flags.ready_file.empty()) {
    std::map<std::string, std::string> ready = {
        {"service", "signaling"}, {"grpc", (*server)->address()}, {"metrics", (*metrics)->address()}};
    if ((*server)->health_port() != 0) ready["health"] = (*server)->health_address();
    if (auto s = util::WriteReadyFile(flags.ready_file, ready); !s.ok()) {
      return runtime_fail("cannot write ready file", s);
    }
  }
  bool serving = true;
  while (!failed.load() && util::WaitForShutdownSignal(absl::Milliseconds(200)) == 0) {
    // A partition stopped at lost records (logged and counted by the
    // consumer) makes the instance NOT_SERVING until an operator decides.
    bool gaps = false;
    {
      absl::MutexLock lock(&loop_mu);
      gaps = running != nullptr && !running->consumer->Gaps().empty();
    }
    if (serving && gaps) {
      serving = false;
      (*server)->SetServing(false);
    }
  }
  util::LogInfo("shutting down");
  (*server)->Shutdown(absl::Seconds(2));
  // The loop finishes its batch: outputs flushed, state and offsets committed; then its consumer leaves the group.
  {
    absl::MutexLock lock(&loop_mu);
    stopping = true;
    if (running != nullptr) running->service->Stop();
  }
  loop.join();
  util::LogInfo("stopped");
  return failed.load() ? 1 : 0;
}

}  // namespace
}  // namespace inbeeld::signaling

int main(int argc, char** argv) { return inbeeld::signaling::Main(argc, argv); }

// inbeeld-signaling: the Leerplichtwet rules over the event topics.
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "inbeeld/grpc/server.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/util/config.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"
#include "leerplicht_service.h"
#include "signaling_service.h"
#include "telling_service.h"

#ifndef INBEELD_DEFAULT_CONFIG_DIR
#define INBEELD_DEFAULT_CONFIG_DIR "deploy/config"
#endif

namespace inbeeld::signaling {
namespace {

std::string Err(const absl::Status& s) { return std::string(s.message()); }

int Main(int argc, char** argv) {
  util::BlockShutdownSignals();
  auto config = util::Config::Parse(
      argc, argv,
      {"kafka", "grpc-listen", "metrics-listen", "ready-file", "plaintext", "tls-cert", "tls-key", "tls-ca",
       "pseudonym-secret", "log-level", "state-dir", "group", "tick", "date-file", "grace-days",
       "buitenland-wacht-days", "geen-nieuws-days", "lrv-days", "sync-writes", "kafka-config", "health-listen", "organisaties",
       "herindelingen", "accept-loss", "max-batch-records", "batches-in-flight"});
  if (!config.ok()) {
    std::cerr << "inbeeld-signaling: " << config.status().message() << "\n";
    return 2;
  }
  util::InitLogging("signaling", config->GetString("log-level", ""));
  auto fail = [](std::string_view what, const absl::Status& s) {
    util::LogError(what, {{"error", Err(s)}});
    return 2;
  };
  // Set but empty (an unfilled Kubernetes secret, `INBEELD_PSEUDONYM_SECRET=`)
  // is a deployment mistake, never a request for the development secret.
  if (config->Has("pseudonym-secret") && config->GetString("pseudonym-secret", "").empty()) {
    util::LogError("INBEELD_PSEUDONYM_SECRET / --pseudonym-secret is set but empty; refusing to start",
                   {{"hint", "set at least 16 (better 32) random bytes from the secret store"}});
    return 2;
  }
  auto secret = identity::Pseudonymizer::Create(
      config->GetString("pseudonym-secret", identity::Pseudonymizer::kDevelopmentSecret));
  if (!secret.ok()) return fail("bad configuration", secret.status());
  SignalingOptions options;
  auto tick = config->GetDuration("tick", absl::Hours(1));
  auto grace = config->GetInt("grace-days", options.core.grace_days);
  auto wacht = config->GetInt("buitenland-wacht-days", options.core.buitenland_wacht_days);
  auto nieuws = config->GetInt("geen-nieuws-days", options.core.geen_nieuws_days);
  auto lrv = config->GetInt("lrv-days", options.core.lrv_days);
  auto sync = config->GetBool("sync-writes", true);
  auto plaintext = config->GetBool("plaintext", false);
  auto batch = config->GetInt("max-batch-records", options.max_batch_records);
  auto in_flight = config->GetInt("batches-in-flight", options.max_batches_in_flight);
  for (const absl::Status& s : {tick.status(), grace.status(), wacht.status(), nieuws.status(), lrv.status(),
                                sync.status(), plaintext.status(), batch.status(), in_flight.status()}) {
    if (!s.ok()) return fail("bad configuration", s);
  }
  if (*batch < 1 || *in_flight < 1) {
    return fail("bad configuration", absl::InvalidArgumentError("--max-batch-records and --batches-in-flight >= 1"));
  }
  options.max_batch_records = static_cast<int>(*batch);
  options.max_batches_in_flight = static_cast<int>(*in_flight);
  options.tick = *tick;
  options.core.grace_days = static_cast<int>(*grace);
  options.core.buitenland_wacht_days = static_cast<int>(*wacht);
  options.core.geen_nieuws_days = static_cast<int>(*nieuws);
  options.core.lrv_days = static_cast<int>(*lrv);

  const std::string state_dir = config->GetString("state-dir", "./signaling-state");
  std::filesystem::create_directories(state_dir);
  auto store = SignalingStore::Open(state_dir, *sync);
  if (!store.ok()) return fail("cannot open state store", store.status());

  std::unique_ptr<DateSource> dates;
  if (config->Has("date-file")) {
    dates = std::make_unique<FileDateSource>(config->GetString("date-file", ""));
  } else {
    dates = std::make_unique<SystemDateSource>();
  }

  auto metrics = observability::MetricsServer::Start(config->GetString("metrics-listen", "127.0.0.1:9464"));
  if (!metrics.ok()) return fail("cannot start metrics", metrics.status());

  kafka::ClientOptions kopts;
  kopts.bootstrap_servers = config->GetString("kafka", "");
  kopts.client_id = "inbeeld-signaling";
  kopts.on_stats = kafka::ExportStats;
  auto extra = kafka::ParseKafkaConfig(config->GetString("kafka-config", ""));
  if (!extra.ok()) return fail("bad --kafka-config", extra.status());
  kopts.extra = *extra;
  auto producer = kafka::Producer::Create(kopts);
  if (!producer.ok()) return fail("cannot create Kafka producer", producer.status());

  SignalingService service(**store, **producer, *secret, *dates, kopts, options);
  auto accepted = kafka::ParseAcceptedLosses(config->GetString("accept-loss", ""));
  if (!accepted.ok()) return fail("bad --accept-loss", accepted.status());
  kafka::ConsumerOptions consumer_options = service.ConsumerOptionsFor(config->GetString("group", "inbeeld-signaling"));
  consumer_options.accepted_losses = *accepted;
  auto consumer = kafka::Consumer::Create(consumer_options);
  if (!consumer.ok()) return fail("cannot create Kafka consumer", consumer.status());

  LeerplichtServiceImpl status_service(**store, *secret, *dates, options.core);
  // TellingService: the organisation table (gemeente → organisation, OIN) and
  // the herindelingen, the same files routing and delivery read. Named
  // explicitly, they must load; the built-in default may be missing (an
  // image without the source tree): then the RPC answers UNAVAILABLE.
  const std::string organisaties = config->GetString("organisaties", INBEELD_DEFAULT_CONFIG_DIR "/organisaties.csv");
  std::shared_ptr<const routing::OrganisatieTabel> tabel;
  std::shared_ptr<const delivery::OrganisatieIdentiteit> identiteit;
  {
    auto t = routing::OrganisatieTabel::Load(
        organisaties, config->GetString("herindelingen", INBEELD_DEFAULT_CONFIG_DIR "/herindelingen.csv"));
    auto i = t.ok() ? delivery::OrganisatieIdentiteit::LoadCsv(organisaties) : t.status();
    if (t.ok() && i.ok()) {
      tabel = std::make_shared<const routing::OrganisatieTabel>(*std::move(t));
      identiteit = std::make_shared<const delivery::OrganisatieIdentiteit>(*std::move(i));
    } else if (config->Has("organisaties") || config->Has("herindelingen")) {
      return fail("cannot load the organisation table", t.ok() ? i.status() : t.status());
    } else {
      util::LogWarn("no organisation table: TellingService unavailable (set --organisaties/--herindelingen)",
                    {{"error", Err(t.ok() ? i.status() : t.status())}});
    }
  }
  TellingServiceImpl telling_service(**store, tabel, identiteit, *dates, options.core, *plaintext);
  grpc_util::TlsOptions tls{*plaintext, config->GetString("tls-cert", ""), config->GetString("tls-key", ""),
                            config->GetString("tls-ca", ""), true};
  if (tls.plaintext) util::LogWarn("gRPC without TLS (--plaintext): local development only");
  grpc_util::ServerOptions server_options;
  server_options.service_names = {std::string(v1::LeerplichtService::service_full_name()),
                                  std::string(v1::TellingService::service_full_name())};
  server_options.health_listen = config->GetString("health-listen", "");
  auto server = grpc_util::Server::Start(config->GetString("grpc-listen", "127.0.0.1:50053"), tls,
                                         {&status_service, &telling_service}, server_options);
  if (!server.ok()) return fail("cannot start gRPC", server.status());

  std::atomic<bool> failed{false};
  std::thread loop([&] {
    if (absl::Status s = service.Run(**consumer); !s.ok()) {
      util::LogError("signaling loop stopped; restart resumes from the stored offsets", {{"error", Err(s)}});
      failed = true;
    }
  });
  util::LogInfo("signaling ready", {{"grpc", (*server)->address()},
                                    {"metrics", (*metrics)->address()},
                                    {"health", (*server)->health_address()}});
  if (config->Has("ready-file")) {
    std::map<std::string, std::string> ready = {
        {"service", "signaling"}, {"grpc", (*server)->address()}, {"metrics", (*metrics)->address()}};
    if ((*server)->health_port() != 0) ready["health"] = (*server)->health_address();
    if (auto s = util::WriteReadyFile(config->GetString("ready-file", ""), ready); !s.ok()) {
      return fail("cannot write ready file", s);
    }
  }
  bool serving = true;
  while (!failed.load() && util::WaitForShutdownSignal(absl::Milliseconds(200)) == 0) {
    // A partition stopped at lost records (logged and counted by the
    // consumer) makes the instance NOT_SERVING until an operator decides.
    if (serving && !(*consumer)->Gaps().empty()) {
      serving = false;
      (*server)->SetServing(false);
    }
  }
  util::LogInfo("shutting down");
  (*server)->Shutdown(absl::Seconds(2));
  // The loop finishes its batch: outputs flushed, state and offsets committed.
  service.Stop();
  loop.join();
  (*consumer)->Close();
  util::LogInfo("stopped");
  return failed.load() ? 1 : 0;
}

}  // namespace
}  // namespace inbeeld::signaling

int main(int argc, char** argv) { return inbeeld::signaling::Main(argc, argv); }

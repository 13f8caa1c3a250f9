#include "inbeeld/cli/run_command.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "inbeeld/cli/demo_scenario.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "inbeeld/v1/signaal.pb.h"

namespace inbeeld::cli {
namespace {

namespace fs = std::filesystem;

// The flags of `inbeeld run`, each with its default and INBEELD_* variable.
struct RunFlags {
  std::string ready_file;
  int64_t partitions = 0;  // 0: 3 on the embedded cluster, 6 (as deploy/kafka/create-topics.sh) with --kafka
  bool demo = true;
  std::string tls_dir;
  bool plaintext = false;
  std::string state_dir;
  std::string bin_dir;
  std::string pseudonym_secret{identity::Pseudonymizer::kDevelopmentSecret};
  std::string log_level;
  std::string service_log_level = "warn";
  std::string signaling_tick;  // empty: signaling's own default
  std::string organisaties;
  std::string config_dir = util::kDefaultConfigDir;
  std::string kafka;
  absl::Duration kafka_timeout = absl::Seconds(30);
  std::string kafka_config;          // librdkafka K=V,... for the admin and every service
  std::string signaling_date_file;   // signaling's --date-file (tests, benchmarks with dated events)

  void Add(CLI::App& app) {
    util::AddOption(app, "ready-file", ready_file, "write every endpoint as JSON here once all services are ready");
    util::AddOption(app, "partitions", partitions, "partitions per topic")
        ->check(util::IntegerIn(1, 64))
        ->default_str("3, with --kafka 6");
    util::AddSwitch(app, "demo", demo, "play the demo scenario (--demo=false: only start the pipeline)");
    util::AddOption(app, "tls-dir", tls_dir, "certificates from scripts/gen-certs (empty: plaintext)");
    util::AddSwitch(app, "plaintext", plaintext, "gRPC without TLS even with --tls-dir");
    util::AddOption(app, "state-dir", state_dir, "state and ready files of the services (empty: a temporary directory)");
    util::AddOption(app, "bin-dir", bin_dir, "where the service binaries are (empty: next to inbeeld)");
    util::AddOption(app, "pseudonym-secret", pseudonym_secret, "passed to every service")
        ->default_str("the development secret");
    util::AddOption(app, "log-level", log_level, "debug, info, warn or error");
    util::AddOption(app, "service-log-level", service_log_level, "the services' --log-level");
    util::AddOption(app, "signaling-tick", signaling_tick, "signaling's --tick (empty: its default)");
    util::AddOption(app, "kafka", kafka,
                    "bootstrap servers of an Apache Kafka cluster to run on instead of the embedded one");
    util::AddDuration(app, "kafka-timeout", kafka_timeout, "how long --kafka may take to answer");
    util::AddOption(app, "kafka-config", kafka_config,
                    "librdkafka properties K=V,... (security.protocol=ssl, ssl.*) for the topic admin and every service");
    util::AddOption(app, "signaling-date-file", signaling_date_file,
                    "signaling's --date-file: the day it judges up to (tests and benchmarks with dated events)");
    util::AddOption(app, "config-dir", config_dir,
                    "the services' --config-dir: organisaties.csv, herindelingen.csv, bronnen.csv (scripts/run: "
                    "deploy/config)");
    util::AddOption(app, "organisaties", organisaties, "organisation table for signaling, routing and delivery (empty: theirs)");
  }
};

struct Child {
  std::string service;
  pid_t pid = -1;
  std::string ready_file;
  std::map<std::string, std::string> endpoints;
};

pid_t Spawn(const std::string& binary, const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    // Die with the parent even when it is killed -9 (no orphans holding ports).
    std::vector<std::string> argv_s = {binary};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Absolute and normal: the services resolve a relative file flag against
// their --config-dir (a --state-dir below their --data-dir), not against this
// working directory, so every path handed to them is absolute.
std::string Absolute(const std::string& path) {
  std::error_code ec;
  return fs::absolute(path, ec).lexically_normal().string();
}

struct TlsFiles {
  bool plaintext = true;
  std::string dir;
  std::string Ca() const { return dir + "/ca.crt"; }
  std::string ServerCert() const { return dir + "/server.crt"; }
  std::string ServerKey() const { return dir + "/server.key"; }
};

std::vector<std::string> TlsArgs(const TlsFiles& tls) {
  if (tls.plaintext) return {"--plaintext"};
  return {"--tls-cert=" + tls.ServerCert(), "--tls-key=" + tls.ServerKey(), "--tls-ca=" + tls.Ca()};
}

// The first client certificate in the TLS dir whose name starts with `prefix`.
std::pair<std::string, std::string> ClientCert(const TlsFiles& tls, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(tls.dir + "/clients", ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name.size() > 4 && name.substr(name.size() - 4) == ".crt") {
      std::string key = entry.path().string();
      key.replace(key.size() - 4, 4, ".key");
      if (fs::exists(key)) return {entry.path().string(), key};
    }
  }
  return {"", ""};
}

std::string Short(const std::string& pseudonym) { return pseudonym.substr(0, 10); }

void PlayDemo(const std::string& ingest_address, const TlsFiles& tls, const identity::Pseudonymizer& pseudo,
              std::map<std::string, int>* jongere_of_pseudonym) {
  grpc_util::TlsOptions copts;
  copts.plaintext = tls.plaintext;
  if (!tls.plaintext) {
    copts.ca_file = tls.Ca();
    auto [cert, key] = ClientCert(tls, "school");
    copts.cert_file = cert;
    copts.key_file = key;
  }
  auto creds = grpc_util::ChannelCredentials(copts);
  if (!creds.ok()) {
    std::cout << "demo: " << creds.status().message() << std::endl;
    return;
  }
  grpc::ChannelArguments chargs;
  chargs.SetSslTargetNameOverride("localhost");
  auto stub = v1::MeldingService::NewStub(grpc::CreateCustomChannel(ingest_address, *creds, chargs));
  const absl::CivilDay today = util::TodayUtc();
  const std::vector<DemoStep> steps = DemoScenario(today);
  for (size_t i = 0; i < steps.size(); ++i) {
    const DemoStep& step = steps[i];
    if (step.batch_group != 0) {
      // A group travels in one MeldBatch: the school's mutaties of a day together.
      grpc::ClientContext bctx;
      bctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::BatchAntwoord answer;
      auto writer = stub->MeldBatch(&bctx, &answer);
      size_t j = i;
      for (; j < steps.size() && steps[j].batch_group == step.batch_group; ++j) {
        writer->Write(steps[j].event);
        (*jongere_of_pseudonym)[pseudo.Of(steps[j].event.inschrijvingsmutatie().leerling())] =
            std::stoi(std::string(absl::StripPrefix(steps[j].description, "jongere ")).substr(0, 1));
      }
      writer->WritesDone();
      grpc::Status bst = writer->Finish();
      for (size_t k = i; k < j; ++k) {
        std::cout << "  → " << steps[k].description << (bst.ok() ? "" : " [" + bst.error_message() + "]")
                  << std::endl;
      }
      i = j - 1;
      continue;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::MeldAntwoord resp;
    grpc::Status st;
    const v1::Event& e = step.event;
    const v1::Leerling* leerling = nullptr;
    switch (e.event_case()) {
      case v1::Event::kVerzuimmelding:
        st = stub->MeldVerzuim(&ctx, e.verzuimmelding(), &resp);
        leerling = &e.verzuimmelding().leerling();
        break;
      case v1::Event::kInschrijvingsmutatie:
        st = stub->MeldInschrijving(&ctx, e.inschrijvingsmutatie(), &resp);
        leerling = &e.inschrijvingsmutatie().leerling();
        break;
      case v1::Event::kAdresmutatie:
        st = stub->MeldAdresMutatie(&ctx, e.adresmutatie(), &resp);
        leerling = &e.adresmutatie().leerling();
        break;
      case v1::Event::kVrijstelling:
        st = stub->MeldVrijstelling(&ctx, e.vrijstelling(), &resp);
        leerling = &e.vrijstelling().leerling();
        break;
      case v1::Event::EVENT_NOT_SET:
        continue;
    }
    if (leerling) {
      const int nr = std::stoi(std::string(absl::StripPrefix(step.description, "jongere ")).substr(0, 1));
      (*jongere_of_pseudonym)[pseudo.Of(*leerling)] = nr;
    }
    std::cout << "  → " << step.description << (st.ok() ? "" : absl::StrCat(" [", st.error_message(), "]"))
              << std::endl;
  }
  // What a school sees for a bad BSN: INVALID_ARGUMENT naming the field.
  v1::InschrijvingsMutatie bad = DemoScenario(today)[0].event.inschrijvingsmutatie();
  bad.set_mutatie_id("demo-bad-bsn");
  bad.mutable_leerling()->set_bsn("123456789");
  grpc::ClientContext ctx;
  v1::MeldAntwoord resp;
  grpc::Status st = stub->MeldInschrijving(&ctx, bad, &resp);
  std::cout << "  → een inschrijving met een ongeldig BSN: " << (st.ok() ? "OK?!" : st.error_message())
            << std::endl;
}

}  // namespace

int RunMain(const std::vector<std::string>& args, const std::string& self_path) {
  CLI::App app("Starts the whole pipeline on an embedded Kafka cluster and plays a demo.", "inbeeld run");
  RunFlags flags;
  flags.Add(app);
  if (auto exit = util::ParseFlags(app, args, std::cout, std::cerr)) return *exit;
  util::InitLogging("run", flags.log_level);
  if (flags.kafka_timeout <= absl::ZeroDuration()) {
    std::cerr << "inbeeld run: --kafka-timeout must be positive\n";
    return 2;
  }
  // --kafka-config K=V,...: librdkafka properties (security.protocol=ssl, ssl.*, ...) for every client: the
  // topic admin here and the four services.
  auto kafka_extra = kafka::ParseKafkaConfig(flags.kafka_config);
  if (!kafka_extra.ok()) {
    std::cerr << "inbeeld run: bad --kafka-config: " << kafka_extra.status().message() << "\n";
    return 2;
  }
  const std::string bin_dir =
      flags.bin_dir.empty() ? fs::absolute(fs::path(self_path)).parent_path().string() : flags.bin_dir;
  TlsFiles tls;
  tls.dir = flags.tls_dir.empty() ? "" : Absolute(flags.tls_dir);
  tls.plaintext = flags.plaintext || tls.dir.empty();
  if (!tls.plaintext && !fs::exists(tls.Ca())) {
    std::cerr << "inbeeld run: no " << tls.Ca() << " (run scripts/gen-certs " << tls.dir << ")\n";
    return 2;
  }
  // The files the services will read, checked before anything starts.
  const std::string config_dir = Absolute(flags.config_dir);
  std::vector<std::string> needed = {
      util::ResolvePath(config_dir, flags.organisaties.empty() ? "organisaties.csv" : flags.organisaties),
      util::ResolvePath(config_dir, "herindelingen.csv")};
  if (!tls.plaintext) needed.push_back(util::ResolvePath(config_dir, "bronnen.csv"));
  for (const std::string& file : needed) {
    if (access(file.c_str(), R_OK) != 0) {
      std::cerr << "inbeeld run: cannot read " << file << " (--config-dir " << flags.config_dir
                << ", INBEELD_CONFIG_DIR; from the repository: --config-dir deploy/config)\n";
      return 2;
    }
  }
  std::string state_dir = flags.state_dir.empty() ? "" : Absolute(flags.state_dir);
  bool remove_state = false;
  if (state_dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "inbeeld-run-XXXXXX").string();
    state_dir = mkdtemp(tmpl.data()) ? tmpl : "/tmp";
    remove_state = true;
  }
  fs::create_directories(state_dir);

  util::BlockShutdownSignals();
  const int32_t partitions = static_cast<int32_t>(flags.partitions != 0 ? flags.partitions
                                                  : flags.kafka.empty()    ? 3
                                                                           : 6);
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  std::string bootstrap = flags.kafka;
  if (flags.kafka.empty()) {
    auto embedded = kafka::EmbeddedCluster::Start(1);
    if (!embedded.ok()) {
      std::cerr << "inbeeld run: " << embedded.status().message() << "\n";
      return 1;
    }
    cluster = *std::move(embedded);
    bootstrap = cluster->bootstrap_servers();
    if (auto s = cluster->CreateTopics(kafka::InBeeldTopics(partitions, 1)); !s.ok()) {
      std::cerr << "inbeeld run: " << s.message() << "\n";
      return 1;
    }
  } else {
    // Replication factor -1: the cluster's default.replication.factor.
    kafka::ClientOptions admin;
    admin.bootstrap_servers = flags.kafka;
    admin.client_id = "inbeeld-run-admin";
    admin.extra = *kafka_extra;
    if (auto s = kafka::CreateTopics(admin, kafka::InBeeldTopics(partitions, -1), flags.kafka_timeout); !s.ok()) {
      std::cerr << "inbeeld run: " << s.message() << "\n";
      if (remove_state) {
        std::error_code ec;
        fs::remove_all(state_dir, ec);
      }
      return 1;
    }
  }

  const std::string& secret = flags.pseudonym_secret;
  const std::string& service_log_level = flags.service_log_level;
  std::vector<Child> children;
  for (const std::string svc : {"ingest", "signaling", "routing", "delivery"}) {
    const std::string binary = bin_dir + "/inbeeld-" + svc;
    if (!fs::exists(binary)) continue;
    Child child;
    child.service = svc;
    child.ready_file = state_dir + "/" + svc + ".ready";
    fs::remove(child.ready_file);
    std::vector<std::string> a = {"--kafka=" + bootstrap, "--metrics-listen=127.0.0.1:0",
                                  "--ready-file=" + child.ready_file, "--log-level=" + service_log_level,
                                  "--pseudonym-secret=" + secret};
    if (svc != "routing") {
      a.push_back("--grpc-listen=127.0.0.1:0");
      for (auto& t : TlsArgs(tls)) a.push_back(t);
    }
    a.push_back("--config-dir=" + config_dir);
    a.push_back("--data-dir=" + state_dir);
    if (svc == "signaling" || svc == "routing") a.push_back("--state-dir=" + state_dir + "/" + svc);
    if (svc == "ingest") {
      // The mock deletes the oldest records of a partition past ~5 MiB or
      // 100 000 batches: ingest holds back at half of that, so a bulk load
      // waits for signaling instead of outrunning retention.
      a.push_back("--holdback-max-bytes=" + std::to_string(kafka::kMockRetainedBytes / 2));
      a.push_back("--holdback-max-records=" + std::to_string(kafka::kMockRetainedBatches / 2));
    }
    if (svc == "signaling" && !flags.signaling_tick.empty()) a.push_back("--tick=" + flags.signaling_tick);
    // The day signaling judges up to (yesterday of the date in the file): tests and benchmarks with dated events.
    if (svc == "signaling" && !flags.signaling_date_file.empty()) {
      // (An unreadable date file reads as 1900-01-01.)
      a.push_back("--date-file=" + Absolute(flags.signaling_date_file));
    }
    // On the embedded (mock) cluster a fetch returned only after
    // fetch.wait.max.ms (default 500 ms) even when records had arrived: every
    // consumer hop added up to half a second (docs/PERFORMANCE.md). The
    // caller's properties come after it (the last one of a key wins).
    a.push_back("--kafka-config=fetch.wait.max.ms=10" +
                (flags.kafka_config.empty() ? std::string() : "," + flags.kafka_config));
    if ((svc == "routing" || svc == "delivery" || svc == "signaling") && !flags.organisaties.empty()) {
      a.push_back("--organisaties=" + flags.organisaties);
    }
    child.pid = Spawn(binary, a);
    children.push_back(child);
  }

  auto stop_children = [&]() {
    for (auto& c : children) {
      if (c.pid > 0) kill(c.pid, SIGTERM);
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(12);
    for (auto& c : children) {
      while (c.pid > 0) {
        int status;
        if (waitpid(c.pid, &status, WNOHANG) == c.pid) break;
        if (absl::Now() > deadline) {
          kill(c.pid, SIGKILL);
          waitpid(c.pid, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      c.pid = -1;
    }
    if (remove_state) {
      std::error_code ec;
      fs::remove_all(state_dir, ec);
    }
  };

  // Wait for every child's ready file.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  for (auto& c : children) {
    while (!fs::exists(c.ready_file)) {
      int status;
      if (waitpid(c.pid, &status, WNOHANG) == c.pid) {
        std::cerr << "inbeeld run: inbeeld-" << c.service << " exited during start-up (status " << status
                  << ")\n";
        c.pid = -1;
        stop_children();
        return 1;
      }
      if (absl::Now() > deadline || util::WaitForShutdownSignal(absl::Milliseconds(50)) != 0) {
        std::cerr << "inbeeld run: inbeeld-" << c.service << " not ready\n";
        stop_children();
        return 1;
      }
    }
    auto endpoints = util::ReadReadyFile(c.ready_file);
    if (endpoints.ok()) c.endpoints = *endpoints;
  }

  std::map<std::string, std::string> ready = {{"kafka", bootstrap},
                                               {"tls", tls.plaintext ? "plaintext" : "mutual"}};
  if (!tls.plaintext) ready["tls_dir"] = fs::absolute(tls.dir).string();
  std::cout << (cluster ? "InBeeld draait op het embedded Kafka-cluster (librdkafka mock) "
                        : "InBeeld draait op het Kafka-cluster ")
            << bootstrap << "\n";
  for (const auto& c : children) {
    std::cout << "  " << c.service;
    for (const auto& [k, v] : c.endpoints) {
      if (k == "service") continue;
      ready[c.service + "_" + k] = v;
      std::cout << "  " << k << "=" << (k == "metrics" ? "http://" + v + "/metrics" : v);
    }
    std::cout << "\n";
  }
  std::cout << (tls.plaintext ? "  gRPC ZONDER TLS (--plaintext): alleen voor lokale ontwikkeling\n"
                              : "  gRPC met mutual TLS, certificaten in " + tls.dir + "\n")
            << std::flush;
  if (!flags.ready_file.empty()) {
    if (auto s = util::WriteReadyFile(flags.ready_file, ready); !s.ok()) {
      std::cerr << "inbeeld run: " << s.message() << "\n";
    }
  }

  std::atomic<bool> stop{false};
  std::thread watcher;
  std::map<std::string, int> jongere_of_pseudonym;
  if (flags.demo && ready.contains("ingest_grpc")) {
    auto pseudo = identity::Pseudonymizer::Create(secret);
    std::cout << "\nDemo: gebeurtenissen van scholen en gemeenten\n";
    PlayDemo(ready["ingest_grpc"], tls, *pseudo, &jongere_of_pseudonym);
    // Watch the output: routed signals when routing runs, else raw signals.
    const bool routed = ready.contains("routing_metrics");
    std::cout << "\nSignalen (" << (routed ? kafka::kTopicAflevering : kafka::kTopicSignalen) << "):\n"
              << std::flush;
    watcher = std::thread([&, routed] {
      kafka::ConsumerOptions co;
      co.bootstrap_servers = bootstrap;
      co.group_id = "inbeeld-run-demo";
      co.client_id = "inbeeld-run-demo";
      co.extra = *kafka_extra;
      co.topics = {std::string(routed ? kafka::kTopicAflevering : kafka::kTopicSignalen)};
      auto consumer = kafka::Consumer::Create(co);
      if (!consumer.ok()) return;
      while (!stop.load()) {
        auto r = (*consumer)->Poll(absl::Milliseconds(200));
        if (!r.ok() || !r->has_value()) continue;
        v1::Signaal s;
        if (!s.ParseFromString((*r)->value)) continue;
        auto it = jongere_of_pseudonym.find(s.pseudoniem());
        std::string who = it == jongere_of_pseudonym.end() ? "jongere " + Short(s.pseudoniem())
                                                           : "jongere " + std::to_string(it->second);
        std::cout << "  ← " << v1::SignaalSoort_Name(s.soort()).substr(strlen("SIGNAAL_SOORT_")) << "  " << who
                  << "  peildatum " << s.peildatum() << "  woongemeente " << s.woongemeente()
                  << (s.organisatie().empty() ? "" : "  → " + s.organisatie()) << "  (" << s.regel() << ")"
                  << std::endl;
      }
      (*consumer)->Close();
    });
  }
  if (ready.contains("delivery_grpc")) {
    // Jongere 1 lives in Amsterdam (0363): RMC-regio 21 in the default table.
    std::cout << "\nVolg de signalen van een organisatie (RBL-zaaksysteem), in een tweede terminal:\n  build/bin/inbeeld subscribe --address="
              << ready["delivery_grpc"] << " --organisatie=rmc-21 ";
    if (tls.plaintext) {
      std::cout << "--plaintext\n";
    } else {
      std::cout << "--tls-ca=" << tls.Ca() << " --tls-cert=" << tls.dir << "/clients/rmc-21.crt --tls-key=" << tls.dir
                << "/clients/rmc-21.key\n";
    }
  }
  std::cout << "\nCtrl-C stopt alles.\n" << std::flush;

  // Supervise: stop on a signal, or when a service dies.
  int exit_code = 0;
  while (true) {
    if (util::WaitForShutdownSignal(absl::Milliseconds(200)) != 0) break;
    bool died = false;
    for (auto& c : children) {
      int status;
      if (c.pid > 0 && waitpid(c.pid, &status, WNOHANG) == c.pid) {
        std::cerr << "inbeeld run: inbeeld-" << c.service << " stopped unexpectedly (status " << status << ")\n";
        c.pid = -1;
        died = true;
      }
    }
    if (died) {
      exit_code = 1;
      break;
    }
  }
  stop = true;
  if (watcher.joinable()) watcher.join();
  stop_children();
  std::cout << "InBeeld gestopt.\n";
  return exit_code;
}

}  // namespace inbeeld::cli

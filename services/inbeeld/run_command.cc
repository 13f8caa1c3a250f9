#include "run_command.h"

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
#include "demo_scenario.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/util/config.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/util/log.h"
#include "inbeeld/util/process.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "inbeeld/v1/signaal.pb.h"

namespace inbeeld::cli {
namespace {

namespace fs = std::filesystem;

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
  auto config = util::Config::Parse(
      args, {"ready-file", "partitions", "demo", "tls-dir", "plaintext", "state-dir", "bin-dir",
             "pseudonym-secret", "log-level", "service-log-level", "signaling-tick", "organisaties", "kafka",
             "kafka-timeout"});
  if (!config.ok()) {
    std::cerr << "inbeeld run: " << config.status().message() << "\n";
    return 2;
  }
  util::InitLogging("run", config->GetString("log-level", ""));
  const std::string bin_dir =
      config->GetString("bin-dir", fs::absolute(fs::path(self_path)).parent_path().string());
  // --kafka=BOOTSTRAP: an external Apache Kafka cluster instead of the embedded one; there the partition
  // count defaults to deploy/kafka/create-topics.sh's, so both create the same topics.
  const std::string external_kafka = config->GetString("kafka", "");
  auto partitions = config->GetInt("partitions", external_kafka.empty() ? 3 : 6);
  auto kafka_timeout = config->GetDuration("kafka-timeout", absl::Seconds(30));
  if (!kafka_timeout.ok() || *kafka_timeout <= absl::ZeroDuration()) {
    std::cerr << "inbeeld run: --kafka-timeout must be a positive duration such as 30s\n";
    return 2;
  }
  auto demo = config->GetBool("demo", true);
  auto plaintext_flag = config->GetBool("plaintext", false);
  if (!partitions.ok() || !demo.ok() || !plaintext_flag.ok() || *partitions < 1 || *partitions > 64) {
    std::cerr << "inbeeld run: --partitions must be 1..64, --demo and --plaintext true or false\n";
    return 2;
  }
  TlsFiles tls;
  tls.dir = config->GetString("tls-dir", "");
  tls.plaintext = *plaintext_flag || tls.dir.empty();
  if (!tls.plaintext && !fs::exists(tls.Ca())) {
    std::cerr << "inbeeld run: no " << tls.Ca() << " (run scripts/gen-certs " << tls.dir << ")\n";
    return 2;
  }
  std::string state_dir = config->GetString("state-dir", "");
  bool remove_state = false;
  if (state_dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "inbeeld-run-XXXXXX").string();
    state_dir = mkdtemp(tmpl.data()) ? tmpl : "/tmp";
    remove_state = true;
  }
  fs::create_directories(state_dir);

  util::BlockShutdownSignals();
  std::unique_ptr<kafka::EmbeddedCluster> cluster;
  std::string bootstrap = external_kafka;
  if (external_kafka.empty()) {
    auto embedded = kafka::EmbeddedCluster::Start(1);
    if (!embedded.ok()) {
      std::cerr << "inbeeld run: " << embedded.status().message() << "\n";
      return 1;
    }
    cluster = *std::move(embedded);
    bootstrap = cluster->bootstrap_servers();
    if (auto s = cluster->CreateTopics(kafka::InBeeldTopics(static_cast<int32_t>(*partitions), 1)); !s.ok()) {
      std::cerr << "inbeeld run: " << s.message() << "\n";
      return 1;
    }
  } else {
    // Replication factor -1: the cluster's default.replication.factor.
    kafka::ClientOptions admin;
    admin.bootstrap_servers = external_kafka;
    admin.client_id = "inbeeld-run-admin";
    if (auto s = kafka::CreateTopics(admin, kafka::InBeeldTopics(static_cast<int32_t>(*partitions), -1),
                                     *kafka_timeout);
        !s.ok()) {
      std::cerr << "inbeeld run: " << s.message() << "\n";
      if (remove_state) {
        std::error_code ec;
        fs::remove_all(state_dir, ec);
      }
      return 1;
    }
  }

  const std::string secret =
      config->GetString("pseudonym-secret", identity::Pseudonymizer::kDevelopmentSecret);
  const std::string service_log_level = config->GetString("service-log-level", "warn");
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
    if (svc == "signaling" || svc == "routing") a.push_back("--state-dir=" + state_dir + "/" + svc);
    if (svc == "ingest") {
      // The mock deletes the oldest records of a partition past ~5 MiB or
      // 100 000 batches: ingest holds back at half of that, so a bulk load
      // waits for signaling instead of outrunning retention.
      a.push_back("--holdback-max-bytes=" + std::to_string(kafka::kMockRetainedBytes / 2));
      a.push_back("--holdback-max-records=" + std::to_string(kafka::kMockRetainedBatches / 2));
    }
    if (svc == "signaling" && config->Has("signaling-tick")) {
      a.push_back("--tick=" + config->GetString("signaling-tick", "1h"));
    }
    // On the embedded (mock) cluster a fetch returned only after
    // fetch.wait.max.ms (default 500 ms) even when records had arrived: every
    // consumer hop added up to half a second (docs/PERFORMANCE.md).
    if (std::getenv("INBEELD_KAFKA_CONFIG") == nullptr) a.push_back("--kafka-config=fetch.wait.max.ms=10");
    if ((svc == "routing" || svc == "delivery" || svc == "signaling") && config->Has("organisaties")) {
      a.push_back("--organisaties=" + config->GetString("organisaties", ""));
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
  if (config->Has("ready-file")) {
    if (auto s = util::WriteReadyFile(config->GetString("ready-file", ""), ready); !s.ok()) {
      std::cerr << "inbeeld run: " << s.message() << "\n";
    }
  }

  std::atomic<bool> stop{false};
  std::thread watcher;
  std::map<std::string, int> jongere_of_pseudonym;
  if (*demo && ready.contains("ingest_grpc")) {
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

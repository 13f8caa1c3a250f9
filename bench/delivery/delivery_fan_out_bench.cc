// Memory and CPU of inbeeld-delivery per subscriber (issue #13 item 5).
//
// For every subscriber count and mode: the embedded Kafka cluster (in this
// process), inbeeld-delivery as its own process (--plaintext, so that any
// number of organisations can subscribe), N Subscribe streams spread over 25
// organisations and 8 connections. Measured on the delivery process only
// (/proc/<pid>): resident memory and threads with N idle subscribers, CPU
// while they sit idle for a few seconds, and CPU per delivered message while
// `--signals` signals reach all of them. Modes: `shared` (the default
// service: one tail reader fans out) and `per-subscriber`
// (--shared-reader=false: one Kafka reader per subscription, as before).
//
//   build/bench/delivery/delivery_fan_out_bench --subscribers=50,500 --signals=2000
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "child_process.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/signaal_service.grpc.pb.h"

namespace {

using inbeeld::testing_util::ChildProcess;
using inbeeld::testing_util::TempDir;

constexpr int kOrganisaties = 25;
constexpr int kPartitions = 6;
constexpr int kConnections = 8;

std::string Org(int i) { return absl::StrCat("gem-", i); }

struct ProcessSample {
  double rss_mb = 0;
  int threads = 0;
  double cpu_seconds = 0;  // user + system
};

ProcessSample Sample(pid_t pid) {
  ProcessSample sample;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    std::vector<std::string> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() < 2) continue;
    if (f[0] == "VmRSS:") sample.rss_mb = std::stod(f[1]) / 1024.0;
    if (f[0] == "Threads:") sample.threads = std::stoi(f[1]);
  }
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the ")" that ends the command name: utime is field 14.
  std::vector<std::string> f =
      absl::StrSplit(content.substr(content.rfind(')') + 2), ' ', absl::SkipEmpty());
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (f.size() > 12) sample.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / tick;
  return sample;
}

struct Result {
  int subscribers;
  std::string mode;
  ProcessSample before, connected, idle_end, delivered;
  double idle_seconds, deliver_seconds;
  int64_t messages;
};

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

absl::StatusOr<Result> Run(int subscribers, bool shared, int signals, absl::Duration idle) {
  auto cluster = inbeeld::kafka::EmbeddedCluster::Start();
  if (!cluster.ok()) return cluster.status();
  const std::string topic(inbeeld::kafka::kTopicAflevering);
  if (absl::Status s = (*cluster)->CreateTopics({{topic, kPartitions, 1, false}}); !s.ok()) return s;
  inbeeld::kafka::ClientOptions kafka_options;
  kafka_options.bootstrap_servers = (*cluster)->bootstrap_servers();
  auto producer = inbeeld::kafka::Producer::Create(kafka_options);
  if (!producer.ok()) return producer.status();

  TempDir dir;
  auto delivery = ChildProcess::Start(
      "inbeeld-delivery",
      {"--plaintext", "--kafka=" + (*cluster)->bootstrap_servers(), "--grpc-listen=127.0.0.1:0",
       "--metrics-listen=127.0.0.1:0", "--ready-file=" + dir.File("ready"), "--log-level=warn",
       "--organisaties=" INBEELD_DEFAULT_CONFIG_DIR "/organisaties.csv",
       absl::StrCat("--shared-reader=", shared ? "true" : "false")},
      dir.File("delivery"));
  if (!delivery.ok()) return delivery.status();
  auto ready = inbeeld::testing_util::WaitForReadyFile(dir.File("ready"), absl::Seconds(30));
  if (!ready.ok()) return ready.status();
  const pid_t pid = (*delivery)->pid();
  absl::SleepFor(absl::Milliseconds(500));

  Result result{subscribers, shared ? "shared" : "per-subscriber", {}, {}, {}, {}, 0, 0, 0};
  result.before = Sample(pid);

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kConnections; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // separate connections
    channels.push_back(grpc::CreateCustomChannel((*ready)["grpc"], grpc::InsecureChannelCredentials(), args));
  }
  std::atomic<int64_t> received{0};
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> clients;
  for (int n = 0; n < subscribers; ++n) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    clients.emplace_back([&, n, context = contexts.back().get()] {
      auto stub = inbeeld::v1::SignaalService::NewStub(channels[n % kConnections]);
      inbeeld::v1::SubscribeRequest request;
      request.set_organisatie(Org(n % kOrganisaties));
      auto reader = stub->Subscribe(context, request);
      inbeeld::v1::SignaalBericht bericht;
      while (reader->Read(&bericht)) received.fetch_add(1);
      reader->Finish();
    });
  }
  auto produce = [&](int organisatie, const std::string& id) -> absl::Status {
    inbeeld::v1::Signaal s;
    s.set_signaal_id(id);
    s.set_organisatie(Org(organisatie));
    s.set_pseudoniem(std::string(64, 'p'));
    s.mutable_melding()->set_school_actie(std::string(200, 'x'));  // a typical record, ~400 bytes
    return (*producer)->Produce({topic, -1, Org(organisatie), s.SerializeAsString(), {}},
                                [](const inbeeld::kafka::DeliveryReport&) {});
  };
  // Warm-up: one signal per organisation reaches every subscriber, so every
  // stream is open and reading.
  for (int o = 0; o < kOrganisaties; ++o) {
    if (absl::Status s = produce(o, absl::StrCat("warm-", o)); !s.ok()) return s;
  }
  if (absl::Status s = (*producer)->Flush(absl::Seconds(30)); !s.ok()) return s;
  if (!WaitFor([&] { return received.load() >= subscribers; }, absl::Minutes(2))) {
    return absl::DeadlineExceededError(absl::StrCat("warm-up: ", received.load(), " of ", subscribers));
  }
  absl::SleepFor(absl::Milliseconds(500));
  result.connected = Sample(pid);
  absl::SleepFor(idle);
  result.idle_end = Sample(pid);
  result.idle_seconds = absl::ToDoubleSeconds(idle);

  // Delivery: `signals` over the organisations; every subscriber of an
  // organisation gets each of its signals.
  const int64_t base = received.load();
  int64_t expected = 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < signals; ++i) {
    const int o = i % kOrganisaties;
    if (absl::Status s = produce(o, absl::StrCat("s", i)); !s.ok()) return s;
    expected += subscribers / kOrganisaties + (o < subscribers % kOrganisaties ? 1 : 0);
  }
  if (absl::Status s = (*producer)->Flush(absl::Seconds(60)); !s.ok()) return s;
  if (!WaitFor([&] { return received.load() - base >= expected; }, absl::Minutes(5))) {
    return absl::DeadlineExceededError(
        absl::StrCat("delivery: ", received.load() - base, " of ", expected));
  }
  result.deliver_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  result.delivered = Sample(pid);
  result.messages = expected;

  for (auto& context : contexts) context->TryCancel();
  for (std::thread& t : clients) t.join();
  (*delivery)->Signal(SIGTERM);
  (*delivery)->Wait(absl::Seconds(15));
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> counts = {50, 500};
  int signals = 2000;
  int idle_seconds = 5;
  std::vector<std::string> modes = {"shared", "per-subscriber"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const std::string& name) -> std::optional<std::string> {
      if (arg.rfind(name + "=", 0) == 0) return arg.substr(name.size() + 1);
      return std::nullopt;
    };
    if (auto v = value("--subscribers")) {
      counts.clear();
      for (absl::string_view c : absl::StrSplit(*v, ',')) {
        int n = 0;
        if (!absl::SimpleAtoi(c, &n) || n <= 0) {
          std::fprintf(stderr, "--subscribers: positive numbers, comma separated\n");
          return 2;
        }
        counts.push_back(n);
      }
    } else if (auto v = value("--signals"); v && absl::SimpleAtoi(*v, &signals) && signals > 0) {
    } else if (auto v = value("--idle-seconds"); v && absl::SimpleAtoi(*v, &idle_seconds) && idle_seconds > 0) {
    } else if (auto v = value("--modes")) {
      modes = absl::StrSplit(*v, ',');
    } else {
      std::fprintf(stderr,
                   "usage: %s [--subscribers=50,500] [--signals=2000] [--idle-seconds=5] "
                   "[--modes=shared,per-subscriber]\n",
                   argv[0]);
      return 2;
    }
  }
  std::printf(
      "| subscribers | mode | threads | RSS MB (0 → N) | RSS KB / subscriber | idle CPU ms/s | "
      "messages | deliver s | CPU µs / message | CPU ms / subscriber |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n");
  for (int n : counts) {
    for (const std::string& mode : modes) {
      absl::StatusOr<Result> r = Run(n, mode == "shared", signals, absl::Seconds(idle_seconds));
      if (!r.ok()) {
        std::fprintf(stderr, "%d %s: %s\n", n, mode.c_str(), r.status().ToString().c_str());
        return 1;
      }
      const double idle_cpu = (r->idle_end.cpu_seconds - r->connected.cpu_seconds) / r->idle_seconds;
      const double deliver_cpu = r->delivered.cpu_seconds - r->idle_end.cpu_seconds;
      std::printf("| %d | %s | %d | %.0f → %.0f | %.0f | %.0f | %lld | %.2f | %.1f | %.2f |\n", n,
                  r->mode.c_str(), r->connected.threads, r->before.rss_mb, r->connected.rss_mb,
                  (r->connected.rss_mb - r->before.rss_mb) * 1024.0 / n, idle_cpu * 1000.0,
                  static_cast<long long>(r->messages), r->deliver_seconds,
                  deliver_cpu * 1e6 / static_cast<double>(r->messages), deliver_cpu * 1000.0 / n);
      std::fflush(stdout);
    }
  }
  return 0;
}

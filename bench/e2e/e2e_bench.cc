// End-to-end benchmark, one run on the embedded cluster (2 cores):
//   (a) core:     `inbeeld replay` on the generated events (wall, peak RSS)
//   (b) bare:     the same encoded records through three hops (topic 0 →
//                 consumer → producer → topic 1 → ... → topic 3 consumer),
//                 the project's kafka::Producer/Consumer (same settings:
//                 acks=all, idempotent, linger.ms=5), no processing; its
//                 CPU per event and per record written and read
//   (c) pipeline: `inbeeld run` (ingest, signaling, routing, delivery on the
//                 embedded cluster); `inbeeld meld` sends the file; the clock
//                 runs from meld's start to the last routed signal arriving
//                 on inbeeld.aflevering.v1 (what delivery hands to
//                 subscribers); each process's CPU per event, the records
//                 written per event by topic, and Kafka's part of the CPU
//                 at the bare hops' cost per record; INVALID (exit 1) when an
//                 event ingest acknowledged is not on an event topic or
//                 signaling did not take one that is
//   (c') with --back-half: fresh jongeren (as many as (c)'s), their records
//                 encoded as ingest encodes them and written by the bench
//                 straight to the event topics (no meld, no ingest); the
//                 clock runs from the first record to the last routed
//                 signal: what signaling, routing and the broker allow
//                 without the front door, against the bare hops
//   (d) latency:  fresh jongeren sent at a steady rate through meld; per
//                 routed signal, arrival minus its inbeeld_ingest_time
//                 (ingest's acceptance time); p50/p99
//   (e) state:    the peak RSS (VmHWM) of each service while it runs; then,
//                 stopped, signaling's store read: key and value bytes of
//                 every jongere record and wake-up entry, per jongere
//   (b') bare again: (b) once more after (e), the same records
// Prints the ratios pipeline/core and pipeline/bare (against the mean of (b)
// and (b')).
//
//   build/bin/e2e_bench --jongeren=100000 [--bin-dir=build/bin] [--rate=1000]
//       [--latency-seconds=20] [--partitions=4] [--streams=4]
//       [--meld-batch=500]                events per MeldBatch call of (c)
//       [--kafka-config=K=V,...]          bare hops' librdkafka overrides
//                                         (default fetch.wait.max.ms=10, as
//                                         `inbeeld run` gives its services)
//       [--service-kafka-config=K=V,...]  overrides for the services instead
//       [--skip-core] [--probe=N]         (N: produce-only probe, nothing else)
//       [--back-half]                     also (c'); (e) then holds its jongeren too
//       [--bare-again=false]              skip (b'): the bare hops once more after
//                                         (e); by default pipeline/bare is taken
//                                         against the mean of (b) and (b')
//       [--mix=school-year|national]      the population of (a)-(c): every jongere
//                                         a school year of events (default), or
//                                         population_gen's national mix
//       [--order=jongere|date]            the input file jongere by jongere
//                                         (default, population_gen's), or all
//                                         events by date (a jongere's events
//                                         far apart: each one loads its stored
//                                         state)
//       [--kafka=BOOTSTRAP]               (c)-(e) on an Apache Kafka cluster
//                                         (`inbeeld run --kafka`; a fresh one:
//                                         scripts/kafka-cluster start DIR)
//                                         instead of the embedded one; no (b)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "rocksdb/db.h"
#include "bench/common/school_year_mix.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/cli/demo_scenario.h"
#include "google/protobuf/util/json_util.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/storage/rocksdb_options.h"
#include "inbeeld/util/process.h"

namespace inbeeld::bench {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "e2e_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string Json(const v1::Event& e) {
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(e, &out).ok()) Die("cannot print an event");
  return out;
}

// Writes jongeren [first, first + n) as JSON lines; returns the event count.
// national: population_gen's national mix (17.6 % of the jongeren with a school year of events, the others one
// enrolment); otherwise every jongere gets the school-year mix.
// date_order: the events of all jongeren by their date (as a year of school
// systems would send them, each jongere's events far apart); otherwise
// jongere by jongere (population_gen's file).
int64_t Generate(const std::string& path, int first, int n, std::vector<v1::Event>* keep, bool national = false,
                 bool date_order = false) {
  std::ofstream out(path);
  std::mt19937 rng(static_cast<uint32_t>(first + 1));
  std::mt19937 keuze(2);
  std::vector<v1::Event> all;
  for (int i = first; i < first + n; ++i) {
    std::vector<v1::Event> mix = signaling::bench::SchoolYearMix(cli::SyntheticBsn(i), rng);
    if (national && keuze() % 1000 >= 176) mix.resize(1);  // the enrolment only
    for (v1::Event& e : mix) {
      signaling::bench::MakeIdsUnique(e, absl::StrCat("j", i, "-"));
      all.push_back(std::move(e));
    }
  }
  if (date_order) {
    // Stable: a jongere's events of one day keep their order.
    std::vector<std::pair<absl::CivilDay, size_t>> by_date;
    by_date.reserve(all.size());
    for (size_t k = 0; k < all.size(); ++k) by_date.emplace_back(*signaling::DatumVan(all[k]), k);
    std::stable_sort(by_date.begin(), by_date.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<v1::Event> sorted;
    sorted.reserve(all.size());
    for (const auto& [date, k] : by_date) sorted.push_back(std::move(all[k]));
    all = std::move(sorted);
  }
  for (const v1::Event& e : all) out << Json(e) << "\n";
  const auto events = static_cast<int64_t>(all.size());
  if (keep) keep->insert(keep->end(), std::make_move_iterator(all.begin()), std::make_move_iterator(all.end()));
  return events;
}

struct Finished {
  int status = -1;
  double seconds = 0;
  long max_rss_kb = 0;
};

pid_t Spawn(const std::vector<std::string>& args, const std::string& stdout_path, int stdin_fd = -1) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // no orphans when the bench is killed
    if (!stdout_path.empty()) {
      FILE* f = std::freopen(stdout_path.c_str(), "w", stdout);
      if (f == nullptr) _exit(126);
    }
    if (stdin_fd >= 0) dup2(stdin_fd, 0);
    std::vector<std::string> a = args;
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

Finished Wait(pid_t pid, absl::Time start) {
  Finished f;
  struct rusage ru {};
  wait4(pid, &f.status, 0, &ru);
  f.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  f.max_rss_kb = ru.ru_maxrss;
  return f;
}

size_t CountLines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

// CPU time of this process so far (every thread), user + system, seconds.
double ProcessCpuSeconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The bare hops write every record to four topics (the source's and three
// hops') and read it from each.
constexpr int kBareRecordsPerEvent = 4;

struct BareResult {
  double seconds = 0;      // 0: stalled
  double cpu_seconds = 0;  // the bench process meanwhile: source, hops, last consumer, embedded cluster
};

// (b): records through three hops with no processing.
BareResult BareHops(const std::vector<v1::Event>& events, const identity::Pseudonymizer& pseudo, int partitions,
                const std::map<std::string, std::string>& extra) {
  auto cluster = kafka::EmbeddedCluster::Start();
  if (!cluster.ok()) Die(std::string(cluster.status().message()));
  std::vector<kafka::TopicSpec> topics;
  for (int i = 0; i < 4; ++i) topics.push_back({absl::StrCat("bare.hop", i), partitions, 1, false});
  if (auto s = (*cluster)->CreateTopics(topics); !s.ok()) Die(std::string(s.message()));
  kafka::ClientOptions kopts;
  kopts.bootstrap_servers = (*cluster)->bootstrap_servers();
  kopts.extra = extra;
  std::vector<kafka::OutRecord> records;
  records.reserve(events.size());
  for (const v1::Event& e : events) {
    kafka::OutRecord r = events::Encode(e, pseudo, absl::Now());
    r.topic = "bare.hop0";
    records.push_back(std::move(r));
  }
  std::vector<std::unique_ptr<kafka::Consumer>> consumers;
  for (int i = 0; i < 4; ++i) {
    kafka::ConsumerOptions co;
    static_cast<kafka::ClientOptions&>(co) = kopts;
    co.group_id = absl::StrCat("bare-", i);
    co.topics = {absl::StrCat("bare.hop", i)};
    auto c = kafka::Consumer::Create(co);
    if (!c.ok()) Die(std::string(c.status().message()));
    consumers.push_back(std::move(*c));
  }
  // Join the groups first (the mock's join takes seconds; not throughput).
  const absl::Time join = absl::Now() + absl::Seconds(60);
  for (auto& c : consumers) {
    while (c->Assignment().empty() && absl::Now() < join) (void)c->Poll(absl::Milliseconds(100));
    if (c->Assignment().empty()) Die("bare consumer did not join");
  }
  // One producer per hop and one for the source, as separate services have.
  std::vector<std::unique_ptr<kafka::Producer>> producers;
  for (int i = 0; i < 4; ++i) {
    auto p = kafka::Producer::Create(kopts);
    if (!p.ok()) Die(std::string(p.status().message()));
    producers.push_back(std::move(*p));
  }
  const int64_t total = static_cast<int64_t>(records.size());
  std::atomic<bool> failed{false};
  const double cpu_start = ProcessCpuSeconds();
  const absl::Time start = absl::Now();
  std::vector<std::thread> hops;
  // Hops 0→1, 1→2, 2→3: poll a record, produce it to the next topic (async;
  // the producer batches), like a service without processing.
  for (int i = 0; i < 3; ++i) {
    hops.emplace_back([&, i] {
      int64_t n = 0;
      while (n < total && !failed.load()) {
        auto r = consumers[static_cast<size_t>(i)]->Poll(absl::Seconds(30));
        if (!r.ok() || !r->has_value()) {
          failed = true;
          return;
        }
        kafka::OutRecord out{absl::StrCat("bare.hop", i + 1), (*r)->partition, std::move((*r)->key),
                             std::move((*r)->value), std::move((*r)->headers)};
        while (true) {
          absl::Status s = producers[static_cast<size_t>(i) + 1]->Produce(out, [](const kafka::DeliveryReport&) {});
          if (s.ok()) break;
          absl::SleepFor(absl::Milliseconds(1));
        }
        ++n;
      }
    });
  }
  // The source stays at most kAheadPerPartition records per partition ahead
  // of the last consumer, like ingest holding back a client whose records
  // the pipeline has not taken yet (#14): the mock keeps only ~5 MiB per
  // partition and drops the oldest beyond that, so an unbounded source made
  // the hops lose records (and stall) from N = 100,000 on.
  constexpr int64_t kAheadPerPartition = 5000;
  const int64_t ahead = kAheadPerPartition * partitions;
  std::atomic<int64_t> delivered{0};
  std::thread source([&] {
    int64_t sent = 0;
    for (auto& r : records) {
      while (sent - delivered.load() >= ahead && !failed.load()) absl::SleepFor(absl::Milliseconds(1));
      while (!producers[0]->Produce(r, [](const kafka::DeliveryReport&) {}).ok()) {
        absl::SleepFor(absl::Milliseconds(1));
      }
      ++sent;
    }
  });
  int64_t n = 0;
  while (n < total) {
    auto r = consumers[3]->Poll(absl::Seconds(30));
    if (!r.ok() || !r->has_value()) break;
    delivered = ++n;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu_seconds = ProcessCpuSeconds() - cpu_start;
  failed = true;  // stop hops that still wait
  source.join();
  for (auto& h : hops) h.join();
  for (auto& c : consumers) c->Close();
  if (n < total) {
    std::printf("(b) bare     STALLED: %lld of %lld records through the three hops, none for 30 s\n",
                static_cast<long long>(n), static_cast<long long>(total));
    return {};
  }
  return {seconds, cpu_seconds};
}

// A minimal HTTP GET of /metrics; returns the value of the first sample of
// `name`, or with `sum` the sum of all its samples (every label set).
std::optional<double> Scrape(const std::string& address, const std::string& name, bool sum = false) {
  std::pair<std::string, std::string> hp = absl::StrSplit(address, absl::MaxSplits(':', 1));
  int port = 0;
  if (!absl::SimpleAtoi(hp.second, &port)) return std::nullopt;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, hp.first == "localhost" ? "127.0.0.1" : hp.first.c_str(), &sa.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return std::nullopt;
  }
  const std::string req = "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n";
  if (write(fd, req.data(), req.size()) < 0) {
    close(fd);
    return std::nullopt;
  }
  std::string body;
  char buf[65536];
  for (ssize_t k; (k = read(fd, buf, sizeof(buf))) > 0;) body.append(buf, static_cast<size_t>(k));
  close(fd);
  std::istringstream in(body);
  std::optional<double> total;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) != 0) continue;
    if (line.size() > name.size() && line[name.size()] != ' ' && line[name.size()] != '{') continue;
    const size_t sp = line.rfind(' ');
    double v = 0;
    if (sp == std::string::npos || !absl::SimpleAtod(line.substr(sp + 1), &v)) continue;
    if (!sum) return v;
    total = total.value_or(0) + v;
  }
  return total;
}

// Peak RSS (VmHWM, kB) of the children of `parent`, by process name.
std::map<std::string, long> ChildRss(pid_t parent) {
  std::map<std::string, long> out;
  std::ifstream children(absl::StrCat("/proc/", parent, "/task/", parent, "/children"));
  for (int pid; children >> pid;) {
    std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
    std::string name;
    long hwm = 0;
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("Name:", 0) == 0) name = std::string(absl::StripAsciiWhitespace(line.substr(5)));
      if (line.rfind("VmHWM:", 0) == 0) hwm = std::strtol(line.c_str() + 6, nullptr, 10);
    }
    out[name] = hwm;
  }
  return out;
}

// CPU seconds (user + system) of a process so far, from /proc/PID/stat.
double CpuSecondsOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');  // the name may hold spaces
  if (close == std::string::npos) return 0;
  std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
  // After the name: state is field 3 of stat(5), utime 14 and stime 15.
  if (f.size() < 13) return 0;
  double utime = 0, stime = 0;
  (void)absl::SimpleAtod(f[11], &utime);
  (void)absl::SimpleAtod(f[12], &stime);
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of `parent` (`inbeeld run`: the embedded broker) and of each
// of its children (the services), by process name.
std::map<std::string, double> CpuSeconds(pid_t parent) {
  std::map<std::string, double> out;
  out["inbeeld run (broker)"] = CpuSecondsOf(parent);
  std::ifstream children(absl::StrCat("/proc/", parent, "/task/", parent, "/children"));
  for (int pid; children >> pid;) {
    std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
    std::string name;
    std::getline(comm, name);
    out[name] += CpuSecondsOf(pid);
  }
  return out;
}

// What each of InBeeld's topics received (the sum of its partitions' end
// offsets), by name; nullopt (after printing why) when the cluster did not
// answer. On the embedded cluster the topics are this run's alone.
std::optional<std::map<std::string, int64_t>> WrittenPerTopic(const kafka::ClientOptions& options, int partitions) {
  std::map<std::string, int64_t> written;
  for (const kafka::TopicSpec& t : kafka::InBeeldTopics(partitions, 1)) {
    auto ends = kafka::EndOffsets(options, t.name, absl::Seconds(30));
    if (!ends.ok()) {
      std::printf("    records written: %s: %s\n", t.name.c_str(), std::string(ends.status().message()).c_str());
      return std::nullopt;
    }
    for (int64_t end : *ends) written[t.name] += end;
  }
  return written;
}

bool IsEventTopic(std::string_view topic) {
  return std::find(kafka::kEventTopics.begin(), kafka::kEventTopics.end(), topic) != kafka::kEventTopics.end();
}

// After (c): the records the pipeline wrote per event, by kind of topic,
// against the bare hops' kBareRecordsPerEvent; and what Kafka's part of the
// pipeline's CPU would be at the bare hops' cost per record.
void PrintRecordsPerEvent(const std::map<std::string, int64_t>& written, size_t n_events, double bare_us_per_record,
                          double pipeline_us_per_event) {
  std::map<std::string, int64_t> by_group;
  for (const auto& [topic, count] : written) {
    std::string group = "other";  // inbeeld.organisaties.v1 (nothing writes it here)
    if (topic.ends_with(".dlq")) {
      group = "DLQ";
    } else if (IsEventTopic(topic)) {
      group = "events";
    } else if (topic == kafka::kTopicSignalen) {
      group = "signalen";
    } else if (topic == kafka::kTopicSignalingChangelog) {
      group = "changelog";
    } else if (topic == kafka::kTopicAflevering) {
      group = "aflevering";
    }
    by_group[group] += count;
  }
  const double n = static_cast<double>(n_events);
  double per_event = 0;
  std::string line;
  for (const char* group : {"events", "signalen", "changelog", "aflevering", "DLQ", "other"}) {
    const double r = static_cast<double>(by_group[group]) / n;
    if (r == 0 && std::string_view(group) == "other") continue;
    per_event += r;
    absl::StrAppendFormat(&line, "%s%s %.2f", line.empty() ? "" : ", ", group, r);
  }
  std::printf("    records written per event: %s; %.2f in all (the bare hops: %d)\n", line.c_str(), per_event,
              kBareRecordsPerEvent);
  if (bare_us_per_record > 0) {
    const double kafka_us = per_event * bare_us_per_record;
    std::printf("    at the bare hops' %.2f us per record, Kafka is ~%.1f of the pipeline's %.1f us per event; the "
                "processes' own work ~%.1f us\n",
                bare_us_per_record, kafka_us, pipeline_us_per_event, pipeline_us_per_event - kafka_us);
  }
}

// The events signaling took so far (applied or found duplicate), from its
// metrics; nullopt when it did not answer.
std::optional<double> EventsTaken(const std::string& signaling_metrics) {
  const auto applied = Scrape(signaling_metrics, "inbeeld_signaling_events_applied_total", /*sum=*/true);
  const auto duplicate = Scrape(signaling_metrics, "inbeeld_signaling_events_duplicate_total", /*sum=*/true);
  if (!applied) return std::nullopt;
  return *applied + duplicate.value_or(0);
}

// (c'): the pipeline behind the front door. The bench writes `records`
// (encoded as ingest encodes events) straight to the event topics and reads
// the routed signals with `reader`, as in (c).
struct BackHalfResult {
  double seconds = 0;     // first record written → last routed signal read
  size_t signals = 0;     // routed signals read
  int64_t taken = 0;      // events signaling applied or found duplicate meanwhile
  double source_cpu = 0;  // the bench's writing thread, seconds
  std::map<std::string, double> cpu;  // `inbeeld run` and its services, seconds
  absl::Status produced;  // the writer's flush
};

BackHalfResult BackHalf(const std::vector<kafka::OutRecord>& records, const kafka::ClientOptions& options,
                        kafka::Consumer& reader, const std::string& signaling_metrics, pid_t run) {
  BackHalfResult res;
  auto producer = kafka::Producer::Create(options);
  if (!producer.ok()) Die(std::string(producer.status().message()));
  const double taken_before = EventsTaken(signaling_metrics).value_or(0);
  // Held back as ingest holds back (the same monitor and limits `inbeeld run`
  // gives it): the embedded cluster keeps only ~5 MiB per partition, so the
  // writer waits while a partition's backlog behind signaling's committed
  // offsets is at half of that.
  kafka::BacklogOptions bo;
  bo.kafka = options;
  bo.topics = {kafka::kEventTopics.begin(), kafka::kEventTopics.end()};
  bo.max_backlog_bytes = kafka::kMockRetainedBytes / 2;
  bo.max_backlog_records = kafka::kMockRetainedBatches / 2;
  auto backlog = kafka::BacklogMonitor::Start(bo);
  if (!backlog.ok()) Die(std::string(backlog.status().message()));
  kafka::BacklogMonitor& monitor = **backlog;
  const std::map<std::string, double> cpu_before = CpuSeconds(run);
  std::atomic<bool> source_done{false};
  const absl::Time start = absl::Now();
  std::thread source([&] {
    for (const kafka::OutRecord& r : records) {
      while (!monitor.Admit(r.topic, r.key).ok()) absl::SleepFor(absl::Milliseconds(5));
      const size_t bytes = kafka::PayloadBytes(r);
      while (!(*producer)->Produce(r, [&monitor, bytes](const kafka::DeliveryReport& d) { monitor.Produced(d, bytes); })
                  .ok()) {
        absl::SleepFor(absl::Milliseconds(1));
      }
    }
    res.produced = (*producer)->Flush(absl::Seconds(120));
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    res.source_cpu = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    source_done = true;
  });
  // As (c): until 10 s pass without a routed signal after the last record.
  absl::Time last = start, source_end = absl::InfiniteFuture();
  while (true) {
    if (source_done.load() && source_end == absl::InfiniteFuture()) source_end = absl::Now();
    if (source_done.load() && absl::Now() - std::max(last, source_end) > absl::Seconds(10)) break;
    auto r = reader.Poll(absl::Milliseconds(100));
    if (!r.ok()) Die(std::string(r.status().message()));
    if (!r->has_value()) continue;
    ++res.signals;
    last = absl::Now();
  }
  source.join();
  res.seconds = absl::ToDoubleSeconds(last - start);
  res.cpu = CpuSeconds(run);
  for (const auto& [name, before] : cpu_before) res.cpu[name] -= before;
  res.taken = static_cast<int64_t>(EventsTaken(signaling_metrics).value_or(0) - taken_before);
  return res;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Produce-only probe: n records of 200 bytes (optionally with 6 headers) to 4 partitions, then Flush.
void Probe(int n, bool headers, const std::map<std::string, std::string>& extra) {
  auto cluster = kafka::EmbeddedCluster::Start();
  if (!cluster.ok()) Die("cluster");
  (void)(*cluster)->CreateTopics({{"probe", 4, 1, false}});
  kafka::ClientOptions kopts;
  kopts.bootstrap_servers = (*cluster)->bootstrap_servers();
  kopts.extra = extra;
  auto producer = kafka::Producer::Create(kopts);
  if (!producer.ok()) Die("producer");
  (void)(*producer)->ProduceSync({"probe", 0, "k", "v", {}}, absl::Seconds(10));
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) {
    kafka::OutRecord r{"probe", i % 4, absl::StrCat("key", i), std::string(200, 'x'), {}};
    if (headers) {
      for (int h = 0; h < 6; ++h) r.headers.push_back({absl::StrCat("h", h), "some-header-value"});
    }
    while (!(*producer)->Produce(r, [](const kafka::DeliveryReport&) {}).ok()) absl::SleepFor(absl::Milliseconds(1));
  }
  absl::Status s = (*producer)->Flush(absl::Seconds(120));
  const double sec = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("probe: %d records headers=%d: %.2f s, %.0f records/s (%s)\n", n, headers, sec, n / sec,
              s.ToString().c_str());
}

// --name=value flags (a bare --name means "true"); unknown names are an error.
class Flags {
 public:
  Flags(int argc, char** argv, const std::set<std::string>& known) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) Die("unexpected argument " + a);
      a = a.substr(2);
      const size_t eq = a.find('=');
      const std::string name = a.substr(0, eq);
      if (!known.contains(name)) Die("unknown flag --" + name);
      values_[name] = eq == std::string::npos ? "true" : a.substr(eq + 1);
    }
  }
  bool Has(const std::string& name) const { return values_.contains(name); }
  std::string GetString(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  int GetInt(const std::string& name, int fallback) const {
    int v = fallback;
    if (Has(name) && !absl::SimpleAtoi(GetString(name, ""), &v)) Die("--" + name + " needs a number");
    return v;
  }
  bool GetBool(const std::string& name) const { return GetString(name, "false") == "true"; }

 private:
  std::map<std::string, std::string> values_;
};

int Main(int argc, char** argv) {
  const Flags flags(argc, argv,
                    {"jongeren", "bin-dir", "rate", "latency-seconds", "partitions", "work-dir", "streams",
                     "kafka-config", "mix", "order", "skip-core", "probe", "service-kafka-config", "kafka",
                     "meld-batch", "back-half", "bare-again"});
  const Flags* config = &flags;
  if (config->Has("probe")) {
    auto extra = kafka::ParseKafkaConfig(config->GetString("kafka-config", ""));
    if (!extra.ok()) Die(std::string(extra.status().message()));
    Probe(config->GetInt("probe", 50000), false, *extra);
    Probe(config->GetInt("probe", 50000), true, *extra);
    return 0;
  }
  const int jongeren = config->GetInt("jongeren", 100000);
  const int rate = config->GetInt("rate", 1000);
  const int latency_seconds = config->GetInt("latency-seconds", 20);
  const int partitions = config->GetInt("partitions", 4);
  const int streams = config->GetInt("streams", 4);
  const int meld_batch = config->GetInt("meld-batch", 500);
  const std::string bin = fs::absolute(config->GetString("bin-dir", "build/bin")).string();
  const std::string work =
      config->GetString("work-dir", absl::StrCat(fs::temp_directory_path().string(), "/inbeeld-e2e-", getpid()));
  fs::remove_all(work);
  fs::create_directories(work);
  const std::string file = work + "/events.jsonl";

  std::vector<v1::Event> events;
  const std::string mix = config->GetString("mix", "school-year");
  if (mix != "school-year" && mix != "national") Die("--mix must be school-year or national");
  const std::string order = config->GetString("order", "jongere");
  if (order != "jongere" && order != "date") Die("--order must be jongere or date");
  const bool date_order = order == "date";
  const int64_t n_events = Generate(file, 0, jongeren, &events, mix == "national", date_order);
  std::printf("generated %d jongeren, %lld events (%s mix, in %s order)\n", jongeren,
              static_cast<long long>(n_events), mix.c_str(), order.c_str());
  std::fflush(stdout);

  // (a) the core.
  const bool skip_core = config->GetBool("skip-core");
  absl::Time t = absl::Now();
  Finished core = skip_core ? Finished{0, 1, 0}
                            : Wait(Spawn({bin + "/inbeeld", "replay", file}, work + "/replay.out"), t);
  if (!WIFEXITED(core.status) || WEXITSTATUS(core.status) != 0) Die("inbeeld replay failed");
  const size_t core_signals = skip_core ? 0 : CountLines(work + "/replay.out");
  const double core_rate = skip_core ? 0 : static_cast<double>(n_events) / core.seconds;
  if (skip_core) {
    std::printf("(a) core     skipped (--skip-core)\n");
  } else {
    std::printf("(a) core     inbeeld replay: %.2f s, %.0f events/s, %zu signals, peak RSS %ld MB\n", core.seconds,
                core_rate, core_signals, core.max_rss_kb / 1024);
  }
  std::fflush(stdout);

  // (b) bare hops.
  auto pseudo = identity::Pseudonymizer::Create(std::string(identity::Pseudonymizer::kDevelopmentSecret));
  if (!pseudo.ok()) Die("pseudonymizer");
  // The same librdkafka overrides `inbeeld run` gives its services.
  auto extra = kafka::ParseKafkaConfig(config->GetString("kafka-config", "fetch.wait.max.ms=10"));
  if (!extra.ok()) Die(std::string(extra.status().message()));
  const std::string external_kafka = config->GetString("kafka", "");
  // The bare hops run on the embedded cluster only: on Apache Kafka the comparison is with the embedded pipeline.
  const BareResult bare = external_kafka.empty() ? BareHops(events, *pseudo, partitions, *extra) : BareResult{};
  const double bare_rate = bare.seconds > 0 ? static_cast<double>(n_events) / bare.seconds : 0;
  // What Kafka costs per record, produced, stored and consumed once: the
  // yardstick for the pipeline's own records below.
  const double bare_us_per_record =
      bare.seconds > 0 ? 1e6 * bare.cpu_seconds / static_cast<double>(kBareRecordsPerEvent * n_events) : 0;
  if (external_kafka.empty()) {
    std::printf("(b) bare     3 hops, no processing: %.2f s, %.0f events/s; CPU %.1f s, %.1f us/event, %.2f us per "
                "record (%d written and read per event)\n",
                bare.seconds, bare_rate, bare.cpu_seconds, 1e6 * bare.cpu_seconds / static_cast<double>(n_events),
                bare_us_per_record, kBareRecordsPerEvent);
  } else {
    std::printf("(b) bare     skipped (--kafka): the pipeline runs on Apache Kafka at %s\n", external_kafka.c_str());
  }
  std::fflush(stdout);
  events.clear();
  events.shrink_to_fit();

  // (c) the pipeline.
  // librdkafka overrides for every service (through the environment that
  // `inbeeld run` passes on) and the bench's own reader.
  const std::string service_kafka = config->GetString("service-kafka-config", "");
  if (!service_kafka.empty()) setenv("INBEELD_KAFKA_CONFIG", service_kafka.c_str(), 1);
  const std::string ready_path = work + "/run.ready";
  std::vector<std::string> run_args = {
      bin + "/inbeeld", "run", "--demo=false", "--plaintext", "--ready-file=" + ready_path,
      "--state-dir=" + work + "/state", "--bin-dir=" + bin, "--partitions=" + std::to_string(partitions),
      "--service-log-level=warn",
      // Run from the repository root, like --bin-dir's default.
      "--config-dir=" + fs::absolute("deploy/config").string()};
  if (!external_kafka.empty()) run_args.push_back("--kafka=" + external_kafka);
  pid_t run = Spawn(run_args, work + "/run.out");
  const absl::Time ready_deadline = absl::Now() + absl::Seconds(120);
  while (!fs::exists(ready_path) && absl::Now() < ready_deadline) absl::SleepFor(absl::Milliseconds(200));
  auto ready = util::ReadReadyFile(ready_path);
  if (!ready.ok()) {
    kill(run, SIGTERM);
    Die("inbeeld run not ready");
  }
  auto get = [&](const std::string& k) { return ready->contains(k) ? ready->at(k) : std::string(); };
  kafka::ConsumerOptions co;
  co.bootstrap_servers = get("kafka");
  co.group_id = "e2e-bench-aflevering";
  // The reader keeps up like a service: `inbeeld run`'s fetch.wait.max.ms=10
  // stays under --service-kafka-config (which overrides it only by naming it).
  // A reader waiting librdkafka's default 500 ms per empty fetch fell behind the
  // mock's ~5 MiB per partition and lost most routed signals.
  co.extra = {{"fetch.wait.max.ms", "10"}};
  if (auto x = kafka::ParseKafkaConfig(service_kafka); x.ok()) {
    for (const auto& [k, v] : *x) co.extra[k] = v;
  }
  co.topics = {std::string(kafka::kTopicAflevering)};
  auto consumer = kafka::Consumer::Create(co);
  if (!consumer.ok()) Die(std::string(consumer.status().message()));
  const absl::Time join = absl::Now() + absl::Seconds(60);
  while ((*consumer)->Assignment().empty() && absl::Now() < join) (void)(*consumer)->Poll(absl::Milliseconds(100));
  // Drain whatever the start produced (nothing without the demo).
  size_t drained = 0;
  while (true) {
    auto r = (*consumer)->Poll(absl::Milliseconds(500));
    if (!r.ok() || !r->has_value()) break;
    ++drained;
  }
  // Reads routed signals until `quiet` passes without one after `sender` ended.
  struct Arrivals {
    size_t signals = 0;
    absl::Time last;
    absl::Time sender_end;
    double sender_cpu = 0;  // seconds, user + system
    std::vector<double> latencies;
  };
  bool meld_failed = false;
  // Records the embedded cluster dropped before the reader took them make
  // every figure of the run wrong (too few signals, too early a last one):
  // said at once, and the run fails.
  bool reader_lost = false;
  size_t gaps_reported = 0;  // a stopped partition stays in Gaps(): said once
  auto check_reader = [&](const char* phase) {
    const std::vector<kafka::Gap> gaps = (*consumer)->Gaps();
    if (gaps.size() <= gaps_reported) return;
    gaps_reported = gaps.size();
    int64_t lost = 0;
    for (const kafka::Gap& g : gaps) lost += std::max<int64_t>(g.lost(), 1);
    reader_lost = true;
    std::printf("%s INVALID: the bench's reader lost %lld routed signals on %zu partition(s) of %s (the cluster "
                "dropped them before it read them); this run's figures do not count\n",
                phase, static_cast<long long>(lost), gaps.size(), std::string(kafka::kTopicAflevering).c_str());
    std::fflush(stdout);
  };
  // Every event ingest acknowledged is on an event topic, and signaling took
  // every one of them (applied, a duplicate, or to a DLQ): nothing
  // acknowledged was lost between ingest and signaling. (More written than
  // acknowledged is a produce retried after a lost acknowledgement, which
  // signaling counts as a duplicate.)
  bool events_lost = false;
  auto check_events = [&](const std::map<std::string, int64_t>& written) {
    int64_t on_topics = 0, to_dlq = 0;
    for (const auto& [topic, count] : written) {
      if (IsEventTopic(topic)) on_topics += count;
      if (topic.ends_with(".dlq") && IsEventTopic(topic.substr(0, topic.size() - 4))) to_dlq += count;
    }
    const std::optional<double> acknowledged =
        Scrape(get("ingest_metrics"), "inbeeld_ingest_events_accepted_total", /*sum=*/true);
    const std::optional<double> applied_or_duplicate = EventsTaken(get("signaling_metrics"));
    const int64_t taken = static_cast<int64_t>(applied_or_duplicate.value_or(0)) + to_dlq;
    if (!acknowledged || !applied_or_duplicate || static_cast<int64_t>(*acknowledged) > on_topics ||
        taken != on_topics) {
      events_lost = true;
      std::printf("(c) INVALID: ingest acknowledged %.0f events, the event topics hold %lld, signaling took %lld "
                  "(applied or duplicate %.0f, to a DLQ %lld); this run's figures do not count\n",
                  acknowledged.value_or(-1), static_cast<long long>(on_topics), static_cast<long long>(taken),
                  applied_or_duplicate.value_or(-1), static_cast<long long>(to_dlq));
      std::fflush(stdout);
    }
  };
  // `latency`: also parse each signal's ingest time (phase (d) only). In (c) the
  // reader only counts, as the bare hops' last consumer does: parsing a time per
  // signal took a few percent of the two cores the pipeline runs on.
  auto follow = [&](pid_t sender, absl::Time start, absl::Duration quiet, bool latency) {
    Arrivals a;
    a.last = start;
    bool sender_done = false;
    absl::Time sender_end = absl::InfiniteFuture();
    int sender_status = 0;
    while (true) {
      struct rusage usage {};
      if (!sender_done && wait4(sender, &sender_status, WNOHANG, &usage) == sender) {
        sender_done = true;
        sender_end = absl::Now();
        a.sender_cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
      }
      if (sender_done && absl::Now() - std::max(a.last, sender_end) > quiet) break;
      auto r = (*consumer)->Poll(absl::Milliseconds(100));
      if (!r.ok()) Die(std::string(r.status().message()));
      if (!r->has_value()) continue;
      ++a.signals;
      a.last = absl::Now();
      if (!latency) continue;
      if (auto it = kafka::FindHeader((*r)->headers, kafka::kHeaderIngestTime)) {
        absl::Time ingest;
        std::string err;
        if (absl::ParseTime(absl::RFC3339_full, *it, &ingest, &err)) {
          a.latencies.push_back(absl::ToDoubleSeconds(a.last - ingest));
        }
      }
    }
    a.sender_end = sender_end;
    if (!WIFEXITED(sender_status) || WEXITSTATUS(sender_status) != 0) {
      std::fprintf(stderr, "e2e_bench: inbeeld meld exited with %d (see %s/meld*.out)\n",
                   WEXITSTATUS(sender_status), work.c_str());
      meld_failed = true;
    }
    return a;
  };
  const std::map<std::string, double> cpu_before = CpuSeconds(run);
  const absl::Time pipe_start = absl::Now();
  pid_t meld = Spawn({bin + "/inbeeld", "meld", file, "--address=" + get("ingest_grpc"), "--plaintext",
                      "--streams=" + std::to_string(streams), "--batch=" + std::to_string(meld_batch),
                      "--progress=never"},
                     work + "/meld.out");
  Arrivals pipe = follow(meld, pipe_start, absl::Seconds(10), /*latency=*/false);
  const double pipe_seconds = absl::ToDoubleSeconds(pipe.last - pipe_start);
  const double pipe_rate = static_cast<double>(n_events) / pipe_seconds;
  const std::string core_note = skip_core ? "" : absl::StrFormat(" (core: %zu signals)", core_signals);
  std::printf("(c) pipeline meld → ingest → signaling → routing → aflevering: %.2f s, %.0f events/s, %zu routed "
              "signals%s; meld itself (all accepted by ingest) %.2f s\n",
              pipe_seconds, pipe_rate, pipe.signals, core_note.c_str(),
              absl::ToDoubleSeconds(pipe.sender_end - pipe_start));
  check_reader("(c)");
  // Where the CPU went in (c) (the 10 s of quiet at its end included: idle
  // loops cost little); per event of the file.
  {
    std::map<std::string, double> cpu = CpuSeconds(run);
    for (const auto& [name, before] : cpu_before) cpu[name] -= before;
    cpu["inbeeld meld"] = pipe.sender_cpu;
    double total = 0;
    for (const auto& [name, seconds] : cpu) total += seconds;
    // The share of the total: the machine's speed moves every process's cost
    // per event alike between rounds, a change in one process moves its share.
    for (const auto& [name, seconds] : cpu) {
      std::printf("    CPU %-22s %6.1f s  %5.1f us/event  %4.1f %%\n", name.c_str(), seconds,
                  1e6 * seconds / static_cast<double>(n_events), total > 0 ? 100 * seconds / total : 0.0);
    }
    std::printf("    CPU %-22s %6.1f s  %5.1f us/event\n", "total", total, 1e6 * total / static_cast<double>(n_events));
    // On the embedded cluster the topics are this run's alone: their end
    // offsets are what (c) wrote. (An Apache Kafka cluster may be reused.)
    if (external_kafka.empty()) {
      if (const auto written = WrittenPerTopic(co, partitions)) {
        PrintRecordsPerEvent(*written, n_events, bare_us_per_record, 1e6 * total / static_cast<double>(n_events));
        check_events(*written);
      }
    }
  }
  std::fflush(stdout);

  // (c') the pipeline behind the front door: fresh jongeren, as many as (c)'s.
  size_t back_signals = 0;
  if (config->GetBool("back-half")) {
    std::vector<v1::Event> back;
    const int64_t n_back = Generate(work + "/back.jsonl", 20'000'000, jongeren, &back, mix == "national", date_order);
    std::vector<kafka::OutRecord> records;
    records.reserve(back.size());
    for (const v1::Event& e : back) records.push_back(events::Encode(e, *pseudo, absl::Now()));
    back.clear();
    back.shrink_to_fit();
    kafka::ClientOptions wo;
    wo.bootstrap_servers = get("kafka");
    wo.extra = *extra;
    const BackHalfResult b = BackHalf(records, wo, **consumer, get("signaling_metrics"), run);
    back_signals = b.signals;
    const double rate_back = static_cast<double>(n_back) / b.seconds;
    std::printf("(c') behind the front door: the bench writes %lld encoded events to the event topics → signaling → "
                "routing → aflevering: %.2f s, %.0f events/s, %zu routed signals; %.2f of the bare hops, %.2f of "
                "(c)\n",
                static_cast<long long>(n_back), b.seconds, rate_back, b.signals,
                bare_rate > 0 ? rate_back / bare_rate : 0.0, rate_back / pipe_rate);
    double total = 0;
    for (const auto& [name, seconds] : b.cpu) {
      if (seconds < 0.05) continue;  // ingest and delivery idle
      total += seconds;
      std::printf("    CPU %-22s %6.1f s  %5.1f us/event\n", name.c_str(), seconds,
                  1e6 * seconds / static_cast<double>(n_back));
    }
    std::printf("    CPU %-22s %6.1f s  %5.1f us/event (not in the total)\n", "the bench's writer", b.source_cpu,
                1e6 * b.source_cpu / static_cast<double>(n_back));
    std::printf("    CPU %-22s %6.1f s  %5.1f us/event\n", "total", total, 1e6 * total / static_cast<double>(n_back));
    if (!b.produced.ok() || b.taken != n_back) {
      events_lost = true;
      std::printf("(c') INVALID: wrote %lld events (%s), signaling took %lld; this run's figures do not count\n",
                  static_cast<long long>(n_back), b.produced.ToString().c_str(), static_cast<long long>(b.taken));
    }
    check_reader("(c')");
    std::fflush(stdout);
  }

  // (d) latency at a steady rate: fresh jongeren, `rate` events/s through meld's stdin.
  std::vector<v1::Event> fresh;
  const std::string fresh_file = work + "/fresh.jsonl";
  Generate(fresh_file, 10'000'000, std::max(1, rate * latency_seconds / 7), &fresh);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) Die("pipe");
  pid_t meld2 = Spawn({bin + "/inbeeld", "meld", "-", "--address=" + get("ingest_grpc"), "--plaintext",
                       "--streams=4", "--batch=10", "--progress=never"},
                      work + "/meld-steady.out", pipefd[0]);
  close(pipefd[0]);
  std::thread pacer([&] {
    const absl::Time begin = absl::Now();
    size_t sent = 0;
    for (const v1::Event& e : fresh) {
      const absl::Time due = begin + absl::Seconds(static_cast<double>(sent) / rate);
      if (due > absl::Now()) absl::SleepFor(due - absl::Now());
      const std::string line = Json(e) + "\n";
      if (write(pipefd[1], line.data(), line.size()) < 0) break;
      ++sent;
    }
    close(pipefd[1]);
  });
  Arrivals steady = follow(meld2, absl::Now(), absl::Seconds(5), /*latency=*/true);
  pacer.join();
  std::printf("(d) latency  %d events/s for %zu events: %zu routed signals, ingest → aflevering p50 %.0f ms, "
              "p99 %.0f ms\n",
              rate, fresh.size(), steady.signals, 1000 * Percentile(steady.latencies, 0.50),
              1000 * Percentile(steady.latencies, 0.99));
  check_reader("(d)");
  // Every copy routing produced (and counted once acknowledged) reached the
  // reader in (c) and (d): nothing dropped unseen, also where no gap was
  // reported. (Records drained before (c) are a reused cluster's, which this
  // routing process did not produce: with --demo=false it routes nothing
  // before meld sends.)
  if (const std::optional<double> routed =
          Scrape(get("routing_metrics"), "inbeeld_routing_signals_routed_total", /*sum=*/true);
      routed && static_cast<size_t>(*routed) != pipe.signals + back_signals + steady.signals) {
    reader_lost = true;
    std::printf("(d) INVALID: routing produced %.0f routed signals, the bench's reader got %zu (%zu drained before "
                "(c) not included); this run's figures do not count\n",
                *routed, pipe.signals + back_signals + steady.signals, drained);
    std::fflush(stdout);
  }

  // (e) state and memory. The peak RSS of each service while it runs; then,
  // with the pipeline stopped, the store's logical size: every jongere record
  // and wake-up index entry (key and value) in signaling's RocksDB store, per
  // jongere. (Not the changelog: the embedded cluster keeps only its newest
  // ~5 MiB per partition.) Also the store directory on disk (RocksDB files
  // and WAL, uncompacted).
  const std::optional<double> count = Scrape(get("signaling_metrics"), "inbeeld_signaling_jongeren");
  const std::map<std::string, long> rss = ChildRss(run);
  (*consumer)->Close();
  kill(run, SIGTERM);
  int st = 0;
  waitpid(run, &st, 0);
  const std::string store_dir = work + "/state/signaling";
  size_t jongere_bytes = 0, wake_bytes = 0, jongere_keys = 0;
  {
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status s = rocksdb::DB::OpenForReadOnly(storage::PointLookupOptions(), store_dir, &raw);
    if (!s.ok()) Die("(e) cannot open the signaling store read-only: " + s.ToString());
    const std::unique_ptr<rocksdb::DB> db(raw);
    const std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const size_t n = it->key().size() + it->value().size();
      if (it->key().starts_with("j/")) {
        jongere_bytes += n;
        ++jongere_keys;
      } else if (it->key().starts_with("w/")) {
        wake_bytes += n;
      }
    }
    if (!it->status().ok()) Die("(e) reading the signaling store: " + it->status().ToString());
  }
  uintmax_t disk = 0;
  std::error_code ec;
  for (const auto& f : fs::recursive_directory_iterator(store_dir, ec)) {
    if (f.is_regular_file(ec)) disk += f.file_size(ec);
  }
  const double per = jongere_keys > 0 ? static_cast<double>(jongere_bytes + wake_bytes) / jongere_keys : 0;
  std::printf("(e) state    %zu jongeren (metric %.0f): %.0f bytes per jongere (state %.0f + wake-up index %.0f, "
              "keys included); store dir on disk %.1f MB\n",
              jongere_keys, count.value_or(0), per,
              jongere_keys ? static_cast<double>(jongere_bytes) / jongere_keys : 0.0,
              jongere_keys ? static_cast<double>(wake_bytes) / jongere_keys : 0.0, static_cast<double>(disk) / 1e6);
  for (const auto& [name, kb] : rss) std::printf("    peak RSS %-20s %ld MB\n", name.c_str(), kb / 1024);
  // (b) again, now that the pipeline has stopped: this machine's speed drifts
  // by a third within minutes (docs/PERFORMANCE.md), so the ratio is taken
  // against the mean of the bare hops before and after (c), and both show how
  // far apart they were.
  double bare_ref = bare_rate;
  std::string bare_span;
  if (bare_rate > 0 && config->GetString("bare-again", "true") == "true") {
    std::vector<v1::Event> again;
    Generate(work + "/bare-again.jsonl", 0, jongeren, &again, mix == "national", date_order);
    const BareResult bare2 = BareHops(again, *pseudo, partitions, *extra);
    if (bare2.seconds > 0) {
      const double rate2 = static_cast<double>(n_events) / bare2.seconds;
      std::printf("(b') bare    again after (c): %.2f s, %.0f events/s; CPU %.1f s, %.1f us/event\n", bare2.seconds,
                  rate2, bare2.cpu_seconds, 1e6 * bare2.cpu_seconds / static_cast<double>(n_events));
      bare_ref = (bare_rate + rate2) / 2;
      bare_span = absl::StrFormat(" (%.2f against (b) before, %.2f against (b') after)", pipe_rate / bare_rate,
                                  pipe_rate / rate2);
    }
  }
  const std::string core_ratio = skip_core ? "n/a (--skip-core)" : absl::StrFormat("%.2f", pipe_rate / core_rate);
  std::printf("ratios: pipeline/core %s, pipeline/bare %.2f%s\n", core_ratio.c_str(),
              bare_ref > 0 ? pipe_rate / bare_ref : 0.0, bare_span.c_str());
  std::fflush(stdout);

  if (meld_failed || reader_lost || events_lost) return 1;  // the work dir stays for a look
  fs::remove_all(work);
  return 0;
}

}  // namespace
}  // namespace inbeeld::bench

int main(int argc, char** argv) {
  // As in every service (process.h): the bare hops run on the same footing.
  inbeeld::util::DisableMutexDeadlockDetection();
  return inbeeld::bench::Main(argc, argv);
}

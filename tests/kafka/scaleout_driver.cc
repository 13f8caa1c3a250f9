// kafka-scaleout-driver: the workload side of tests/kafka/scaleout_test.sh.
//   produce --kafka=B --first=SEED --jongeren=N --events-out=FILE [--seconds=20]
//       one school year per jongere (bench/common SchoolYearMix, SyntheticBsn(SEED + i)), written as Event JSON
//       lines to FILE (the input of `inbeeld replay`) and produced to the event topics as ingest would (same
//       encoding, pseudonym key, murmur2_random), spread over --seconds; prints "produced K of N jongeren" as it goes.
//   wait-consumed --kafka=B --group=G [--timeout=60s] [--topic=T ...] [--slack=N]
//       waits until group G's committed offsets reach the end of every event-topic partition (or of --topic's),
//       within N records per partition (1 for a transactional topic: its last offset is a commit marker that
//       no consumer is given).
//   collect --kafka=B --first=SEED --jongeren=N --partitions=P --out=FILE [--topic=signalen|aflevering|changelog]
//           [--isolation=read_committed|read_uncommitted]
//       the signaal_ids (ce_id) on inbeeld.signalen.v1 of these jongeren: distinct and sorted to FILE; prints
//       "records R distinct D repeated X" (X: records whose signaal_id was seen before). --topic=aflevering:
//       "ORGANISATIE/signaal_id" on inbeeld.aflevering.v1 (its partition count from metadata). --isolation:
//       read_uncommitted also sees the records of aborted and open transactions (tests/kafka/txn_test.sh).
//       --topic=changelog: every record of inbeeld.signaling.changelog.v1, whoever's (signaling writes it in
//       each batch's transaction, so it tells whether a transaction is open; the kafka tests hold the cluster alone).
// Development pseudonym secret (as the test's services). Exit 0 ok, 1 failure, 2 usage.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/common/school_year_mix.h"
#include "inbeeld/cli/demo_scenario.h"
#include "google/protobuf/util/json_util.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/v1/signaal.pb.h"

namespace inbeeld::scaleout {
namespace {

const identity::Pseudonymizer& Pseudonyms() {
  static const auto* p = new identity::Pseudonymizer(*identity::Pseudonymizer::Create(
      std::string(identity::Pseudonymizer::kDevelopmentSecret)));
  return *p;
}

int Produce(const kafka::ClientOptions& kopts, int64_t first, int64_t jongeren, const std::string& events_out,
            absl::Duration spread) {
  std::ofstream out(events_out);
  if (!out) {
    std::cerr << "kafka-scaleout-driver: cannot write " << events_out << "\n";
    return 1;
  }
  auto producer = kafka::Producer::Create(kopts);
  if (!producer.ok()) {
    std::cerr << "kafka-scaleout-driver: " << producer.status().message() << "\n";
    return 1;
  }
  absl::Mutex mu;
  absl::Status first_error;
  std::atomic<int64_t> acked{0};
  std::mt19937 rng(static_cast<uint32_t>(first));
  const absl::Time start = absl::Now();
  int64_t events = 0;
  for (int64_t i = 0; i < jongeren; ++i) {
    absl::SleepFor(start + spread * (static_cast<double>(i) / static_cast<double>(jongeren)) - absl::Now());
    for (const v1::Event& e : signaling::bench::SchoolYearMix(cli::SyntheticBsn(static_cast<int>(first + i)), rng)) {
      std::string json;
      if (!google::protobuf::util::MessageToJsonString(e, &json).ok()) return 1;
      out << json << "\n";
      kafka::OutRecord record = events::Encode(e, Pseudonyms(), absl::Now());
      while (true) {
        absl::Status s = (*producer)->Produce(record, [&](const kafka::DeliveryReport& report) {
          if (report.status.ok()) {
            ++acked;
            return;
          }
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = report.status;
        });
        if (s.ok()) break;
        if (s.code() != absl::StatusCode::kUnavailable) {
          std::cerr << "kafka-scaleout-driver: produce: " << s.message() << "\n";
          return 1;
        }
        absl::SleepFor(absl::Milliseconds(5));  // queue full
      }
      ++events;
    }
    if ((i + 1) % std::max<int64_t>(1, jongeren / 10) == 0 || i + 1 == jongeren) {
      std::cout << "produced " << i + 1 << " of " << jongeren << " jongeren" << std::endl;
    }
  }
  out.close();
  if (absl::Status s = (*producer)->Flush(absl::Seconds(60)); !s.ok()) {
    std::cerr << "kafka-scaleout-driver: flush: " << s.message() << "\n";
    return 1;
  }
  absl::MutexLock lock(&mu);
  if (!first_error.ok() || acked.load() != events) {
    std::cerr << "kafka-scaleout-driver: " << acked.load() << " of " << events
              << " events acknowledged: " << first_error.message() << "\n";
    return 1;
  }
  std::cout << "events " << events << " acknowledged" << std::endl;
  return 0;
}

int WaitConsumed(const kafka::ClientOptions& kopts, const std::string& group, absl::Duration timeout,
                 const std::vector<std::string>& topics, int64_t slack) {
  kafka::BacklogOptions bo;
  bo.kafka = kopts;
  bo.group_id = group;
  for (auto t : kafka::kEventTopics) bo.topics.emplace_back(t);
  if (!topics.empty()) bo.topics = topics;
  bo.refresh = absl::Milliseconds(200);
  auto monitor = kafka::BacklogMonitor::Start(bo);
  if (!monitor.ok()) {
    std::cerr << "kafka-scaleout-driver: " << monitor.status().message() << "\n";
    return 1;
  }
  const absl::Time deadline = absl::Now() + timeout;
  int64_t backlog = -1;
  int quiet = 0;
  while (absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(500));
    backlog = 0;
    for (const auto& [tp, b] : (*monitor)->Snapshot()) backlog += std::max<int64_t>(0, b.records() - slack);
    quiet = backlog == 0 ? quiet + 1 : 0;
    if (quiet >= 2) {  // two refreshes in a row: not a snapshot taken between watermark and commit
      std::cout << "group " << group << " consumed every event" << std::endl;
      return 0;
    }
  }
  std::cerr << "kafka-scaleout-driver: group " << group << " still has " << backlog << " records to process\n";
  return 1;
}

int Collect(const kafka::ClientOptions& kopts, int64_t first, int64_t jongeren, int32_t partitions,
            const std::string& out_path, const std::string& which) {
  const bool aflevering = which == "aflevering", changelog = which == "changelog";
  std::set<std::string> ours;
  for (int64_t i = 0; i < jongeren; ++i) {
    v1::Leerling l;
    l.set_bsn(cli::SyntheticBsn(static_cast<int>(first + i)));
    ours.insert(Pseudonyms().Of(l));
  }
  std::map<std::string, int> seen;
  int64_t records = 0;
  const std::string topic(aflevering  ? kafka::kTopicAflevering
                          : changelog ? kafka::kTopicSignalingChangelog
                                      : kafka::kTopicSignalen);
  if (aflevering || changelog) {
    absl::StatusOr<int32_t> n = kafka::PartitionCount(kopts, topic, absl::Seconds(10));
    if (!n.ok()) {
      std::cerr << "kafka-scaleout-driver: " << n.status().message() << "\n";
      return 1;
    }
    partitions = *n;
  }
  for (int32_t p = 0; p < partitions; ++p) {
    absl::Status s = kafka::ReadPartitionToEnd(
        kopts, {topic, p}, 0,
        [&](const kafka::InRecord& r) {
          if (changelog) {
            ++records;
            return;
          }
          if (aflevering) {
            v1::Signaal signaal;
            if (!signaal.ParseFromString(r.value) || !ours.contains(signaal.pseudoniem())) return;
            ++records;
            ++seen[r.key + "/" + signaal.signaal_id()];
            return;
          }
          if (!ours.contains(r.key)) return;
          ++records;
          ++seen[kafka::FindHeader(r.headers, kafka::kHeaderCeId).value_or("")];
        },
        absl::Seconds(60));
    if (!s.ok()) {
      std::cerr << "kafka-scaleout-driver: reading " << topic << "/" << p << ": " << s.message() << "\n";
      return 1;
    }
  }
  std::ofstream out(out_path);
  int64_t repeated = 0;
  for (const auto& [id, n] : seen) {
    out << id << "\n";
    repeated += n - 1;
  }
  std::cout << "records " << records << " distinct " << seen.size() << " repeated " << repeated << std::endl;
  return 0;
}

}  // namespace
}  // namespace inbeeld::scaleout

int main(int argc, char** argv) {
  using namespace inbeeld;
  CLI::App app("Workload of the scale-out test: produce a school year, wait until consumed, collect signals.",
               "kafka-scaleout-driver");
  app.require_subcommand(1);
  std::string bootstrap, events_out, group, out;
  int64_t first = 0, jongeren = 0, seconds = 20, partitions = 0;
  absl::Duration timeout = absl::Seconds(60);
  CLI::App* produce = app.add_subcommand("produce", "produce a school year's events, spread over --seconds");
  CLI::App* wait_consumed = app.add_subcommand("wait-consumed", "wait until --group has consumed every event topic");
  CLI::App* collect = app.add_subcommand("collect", "collect the signals of the population to --out");
  for (CLI::App* sub : {produce, wait_consumed, collect}) {
    util::AddOption(*sub, "kafka", bootstrap, "bootstrap servers")->required();
  }
  for (CLI::App* sub : {produce, collect}) {
    util::AddOption(*sub, "first", first, "seed of the first jongere");
    util::AddOption(*sub, "jongeren", jongeren, "population size")->required()->check(util::IntegerIn(1));
  }
  util::AddOption(*produce, "events-out", events_out, "the produced events as JSON lines")->required();
  util::AddOption(*produce, "seconds", seconds, "spread the events over this many seconds")
      ->check(util::IntegerIn(0));
  util::AddOption(*wait_consumed, "group", group, "consumer group")->required();
  util::AddDuration(*wait_consumed, "timeout", timeout, "give up after");
  std::vector<std::string> topics;
  int64_t slack = 0;
  util::AddOption(*wait_consumed, "topic", topics, "topics to watch (default: the four event topics)");
  util::AddOption(*wait_consumed, "slack", slack, "records per partition that may remain")->check(util::IntegerIn(0));
  util::AddOption(*collect, "partitions", partitions, "partitions of the signal topic")
      ->required()
      ->check(util::IntegerIn(1));
  util::AddOption(*collect, "out", out, "file for the collected signals")->required();
  std::string topic = "signalen", isolation = "read_committed";
  util::AddOption(*collect, "topic", topic, "signalen, aflevering or changelog (records counted only)")
      ->check(CLI::IsMember({"signalen", "aflevering", "changelog"}));
  util::AddOption(*collect, "isolation", isolation, "read_committed or read_uncommitted")
      ->check(CLI::IsMember({"read_committed", "read_uncommitted"}));
  if (auto exit = util::ParseFlags(app, argc, argv, std::cout, std::cerr)) return *exit;

  kafka::ClientOptions kopts;
  kopts.bootstrap_servers = bootstrap;
  if (produce->parsed()) {
    return scaleout::Produce(kopts, first, jongeren, events_out,
                             absl::Seconds(seconds));
  }
  if (wait_consumed->parsed()) return scaleout::WaitConsumed(kopts, group, timeout, topics, slack);
  kopts.extra["isolation.level"] = isolation;
  return scaleout::Collect(kopts, first, jongeren, static_cast<int32_t>(partitions), out, topic);
}

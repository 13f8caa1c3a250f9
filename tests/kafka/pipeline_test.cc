// The whole pipeline on a 3-node Apache Kafka cluster: `inbeeld run --kafka` starts the four services, `inbeeld meld`
// feeds a generated school-year population (bench/common) through ingest over mutual TLS, every organisation
// subscribes to delivery over mutual TLS from the start, and the distinct signaal_ids each organisation receives
// must equal `inbeeld replay` on the events ingest acknowledged, routed with the same organisation table
// (delivered_vs_replay.h). Also reports how often a subscriber saw the same signaal_id twice.
//
// Clock: signaling judges up to yesterday of a date file. It stays before every event while the population goes
// in, so each jongere's events are all known before any day is judged (as in replay, where a day's events are
// applied before the day ends); then the date moves past every timer and replay runs with --until = the day
// before. With the real clock (2026) the 2023-2024 events would all arrive years late, and a jongere whose events
// arrive in different batches (four topics) is judged on what has arrived: provisional signals that replay, which
// sees everything at once, does not make (ARCHITECTURE.md "Event time").
//
//   INBEELD_KAFKA_TEST_CLUSTER  the cluster's directory (scripts/kafka-cluster start DIR [--tls=CERTDIR]); with
//                               DIR/kafka-config (a --tls cluster) every Kafka client uses mutual TLS too
//   INBEELD_KAFKA_JONGEREN      population size (default 20000)
//   INBEELD_KAFKA_KILL_LEADER   a topic: SIGKILL the leader of its partition 0 once a fifth of the events is in,
//                               start it again 5 s later, while ingest and signaling are under load
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/common/school_year_mix.h"
#include "child_process.h"
#include "delivered_vs_replay.h"
#include "inbeeld/cli/demo_scenario.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/routing/organisatie_tabel.h"
#include "tests/integration/integration_support.h"

namespace inbeeld::kafka_test {
namespace {

using testing_util::ChildProcess;
using testing_util::TempDir;

struct Organisatie {
  std::string id;
  std::string oin;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Sum of every series of a metric in a Prometheus text page.
double MetricSum(const std::string& text, const std::string& name) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name + "{") && !absl::StartsWith(line, name + " ")) continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) sum += v;
  }
  return sum;
}

class KafkaPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* cluster = std::getenv("INBEELD_KAFKA_TEST_CLUSTER");
    cluster_ = cluster ? cluster : "";
    bootstrap_ = cluster_.empty() ? "" : ReadFile(cluster_ + "/bootstrap");
    if (bootstrap_.empty()) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") FAIL() << "no Apache Kafka cluster (fixture failed)";
      GTEST_SKIP() << "no Apache Kafka cluster (no Java or jars): run scripts/setup to enable the kafka tests";
    }
    kafka_config_ = ReadFile(cluster_ + "/kafka-config");  // empty: plaintext cluster
    // The TLS cluster's CA signs the gRPC certificates too; a plaintext cluster gets a CA of this test's own.
    certs_ = std::ifstream(cluster_ + "/certs/ca.key").good() ? cluster_ + "/certs" : dir_.File("certs");
    // Organisation ids unique per run: a shared cluster's aflevering topic holds other runs' deliveries.
    const std::string run = std::to_string(getpid());
    organisaties_ = {{"oost-" + run, "99990000000000000901"}, {"west-" + run, "99990000000000000902"}};
    std::string gen = absl::StrCat(testing_util::SourceDir(), "/scripts/gen-certs '", certs_, "'");
    for (const Organisatie& o : organisaties_) absl::StrAppend(&gen, " ", o.id, ":", o.oin);
    absl::StrAppend(&gen, " duo:00000009999999990002 >/dev/null");
    ASSERT_EQ(std::system(gen.c_str()), 0) << gen;
    // The population's woongemeenten (1000..1299 from the generator, 0599 for its moves): even codes to the first
    // organisation, odd to the second, each also its own 18-plus organisation.
    std::ofstream table(dir_.File("organisaties.csv"));
    table << "gemeentecode,organisatie_id,organisatie_naam,oin,geldig_van,geldig_tot,achttien_plus_organisatie_id\n";
    std::vector<int> codes = {599};
    for (int c = 1000; c < 1300; ++c) codes.push_back(c);
    for (int c : codes) {
      const Organisatie& o = organisaties_[c % 2];
      table << absl::StrFormat("%04d", c) << "," << o.id << ",Test " << o.id << "," << o.oin << ",,," << o.id
            << "\n";
    }
    table.close();
    SetToday("2023-07-01");  // before every event of the generator (school year 2023-2024)
  }

  void SetToday(const std::string& day) {
    std::ofstream(dir_.File("today.tmp")) << day << "\n";
    std::rename(dir_.File("today.tmp").c_str(), dir_.File("today").c_str());
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::string& client) {
    grpc_util::TlsOptions tls;
    tls.cert_file = certs_ + "/clients/" + client + ".crt";
    tls.key_file = certs_ + "/clients/" + client + ".key";
    tls.ca_file = certs_ + "/ca.crt";
    auto credentials = grpc_util::ChannelCredentials(tls);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
    args.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(address, *credentials, args);
  }

  // Records in the four event topics (every record ever written: what signaling must have processed).
  int64_t EventRecords() {
    if (!backlog_) {
      kafka::BacklogOptions o;
      o.kafka.bootstrap_servers = bootstrap_;
      o.kafka.client_id = "pipeline-test-watermarks";
      o.kafka.extra = *kafka::ParseKafkaConfig(kafka_config_);
      for (auto t : kafka::kEventTopics) o.topics.emplace_back(t);
      auto m = kafka::BacklogMonitor::Start(o);
      if (!m.ok()) return -1;
      backlog_ = *std::move(m);
    }
    absl::SleepFor(absl::Milliseconds(600));  // a refresh after the last acknowledgement
    int64_t n = 0;
    for (const auto& [tp, b] : backlog_->Snapshot()) n += b.end;
    return n;
  }

  TempDir dir_;
  std::string cluster_, bootstrap_, kafka_config_, certs_;
  std::vector<Organisatie> organisaties_;
  std::unique_ptr<kafka::BacklogMonitor> backlog_;
};

TEST_F(KafkaPipelineTest, DeliveredSignalsEqualReplay) {
  const char* n_env = std::getenv("INBEELD_KAFKA_JONGEREN");
  const int jongeren = n_env ? std::atoi(n_env) : 20000;
  const char* kill_env = std::getenv("INBEELD_KAFKA_KILL_LEADER");
  const std::string kill_topic = kill_env ? kill_env : "";
  const absl::Time t0 = absl::Now();

  // The population: BSNs and ids unique per run (a shared cluster keeps earlier runs' jongeren).
  std::mt19937 rng(20261130);
  const int first_seed = 100000 + static_cast<int>(absl::ToUnixSeconds(absl::Now()) % 100000) * 50;
  const std::string prefix = absl::StrCat("p", getpid(), "-");
  std::set<std::string> population;
  std::vector<std::string> lines;
  for (int i = 0; i < jongeren; ++i) {
    const std::string bsn = cli::SyntheticBsn(first_seed + i);
    population.insert(bsn);
    for (v1::Event& e : signaling::bench::SchoolYearMix(bsn, rng)) {
      signaling::bench::MakeIdsUnique(e, absl::StrCat(prefix, i, "-"));
      std::string json;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(e, &json).ok());
      lines.push_back(std::move(json));
    }
  }
  {
    std::ofstream out(dir_.File("events.jsonl"));
    for (const std::string& l : lines) out << l << "\n";
  }
  std::cout << jongeren << " jongeren, " << lines.size() << " events"
            << (kafka_config_.empty() ? ", Kafka plaintext" : ", Kafka over mutual TLS") << std::endl;

  std::vector<std::string> run_args = {
      "run", "--kafka=" + bootstrap_, "--demo=false", "--tls-dir=" + certs_, "--ready-file=" + dir_.File("ready"),
      "--state-dir=" + dir_.File("state"), "--organisaties=" + dir_.File("organisaties.csv"),
      // Relative to the working directory: `inbeeld run` must hand signaling an absolute path.
      "--signaling-date-file=" + std::filesystem::relative(dir_.File("today")).string(), "--signaling-tick=200ms",
      "--service-log-level=warn"};
  if (!kafka_config_.empty()) run_args.push_back("--kafka-config=" + kafka_config_);
  auto run = ChildProcess::Start("inbeeld", run_args, dir_.File("run"));
  ASSERT_TRUE(run.ok()) << run.status();
  auto ready = testing_util::WaitForReadyFile(dir_.File("ready"), absl::Seconds(180));
  ASSERT_TRUE(ready.ok()) << ready.status() << "\n" << (*run)->Stderr();
  const std::string signaling_metrics = (*ready)["signaling_metrics"];
  auto processed = [&] {
    auto text = integration::HttpGet(signaling_metrics, "/metrics");
    if (!text.ok()) return -1.0;
    return MetricSum(*text, "inbeeld_signaling_events_applied_total") +
           MetricSum(*text, "inbeeld_signaling_events_duplicate_total") +
           MetricSum(*text, "inbeeld_kafka_dlq_records_total");
  };

  std::vector<std::unique_ptr<Abonnee>> abonnees;
  for (const Organisatie& o : organisaties_) {
    abonnees.push_back(std::make_unique<Abonnee>(
        Channel((*ready)["delivery_grpc"], o.id), o.id,
        [&population](const v1::Signaal& s) { return population.contains(s.jongere().bsn()); }));
  }

  // Ingest with DUO's certificate (a known bron); refused items are re-sent with the same id until acknowledged.
  const absl::Time meld_start = absl::Now();
  std::vector<std::string> meld_args = {
      "meld", dir_.File("events.jsonl"), "--address=" + (*ready)["ingest_grpc"], "--streams=4",
      "--retries=100000", "--progress=never", "--tls-ca=" + certs_ + "/ca.crt",
      "--tls-cert=" + certs_ + "/clients/duo.crt", "--tls-key=" + certs_ + "/clients/duo.key"};
  if (!kill_topic.empty()) {
    // Small batches over two streams: meld is still sending when the broker is killed (with the defaults it
    // could send every event before signaling had processed a fifth of them).
    meld_args[3] = "--streams=2";
    meld_args.push_back("--batch=20");
  }
  auto meld = ChildProcess::Start("inbeeld", meld_args, dir_.File("meld"));
  ASSERT_TRUE(meld.ok()) << meld.status();

  std::thread broker_back;
  if (!kill_topic.empty()) {
    // A fifth of the events in: kill the leader of the topic's partition 0 while meld and signaling are busy.
    const double at = static_cast<double>(lines.size()) / 5;
    while (processed() < at && (*meld)->Running()) absl::SleepFor(absl::Milliseconds(100));
    ASSERT_TRUE((*meld)->Running()) << "meld finished before the broker could be killed under load";
    const std::string script = testing_util::SourceDir() + "/scripts/kafka-cluster";
    std::string leader;
    {
      FILE* p = popen(absl::StrCat(script, " leader '", cluster_, "' ", kill_topic, " 0").c_str(), "r");
      ASSERT_NE(p, nullptr);
      char buf[32] = {0};
      if (fgets(buf, sizeof(buf), p) != nullptr) leader = std::string(absl::StripAsciiWhitespace(buf));
      pclose(p);
    }
    ASSERT_FALSE(leader.empty());
    std::cout << "killing node " << leader << " (leader of " << kill_topic << "/0) with SIGKILL at "
              << processed() << " processed events" << std::endl;
    ASSERT_EQ(std::system(absl::StrCat(script, " kill-broker '", cluster_, "' ", leader, " >/dev/null").c_str()), 0);
    broker_back = std::thread([script, leader, this] {
      std::this_thread::sleep_for(std::chrono::seconds(5));
      EXPECT_EQ(std::system(absl::StrCat(script, " start-broker '", cluster_, "' ", leader, " >/dev/null").c_str()),
                0);
      std::cout << "node " << leader << " is back" << std::endl;
    });
  }
  const std::optional<int> meld_exit = (*meld)->Wait(absl::Seconds(400));
  const double meld_seconds = absl::ToDoubleSeconds(absl::Now() - meld_start);
  if (broker_back.joinable()) broker_back.join();
  ASSERT_TRUE(meld_exit.has_value()) << "inbeeld meld did not finish";
  const std::string meld_out = (*meld)->Stdout();
  std::cout << meld_out.substr(0, meld_out.find('\n')) << std::endl;
  if (auto text = integration::HttpGet((*ready)["ingest_metrics"], "/metrics"); text.ok()) {
    // What meld had to send again: refusals by reason (unavailable: Kafka did not acknowledge in time; holdback:
    // signaling's backlog at the limit) and retries of events accepted before.
    std::cout << "ingest refusals re-sent by meld:";
    for (const char* reason : {"unavailable", "holdback", "internal"}) {
      double n = 0;
      for (absl::string_view line : absl::StrSplit(*text, '\n')) {
        if (!absl::StartsWith(line, "inbeeld_ingest_events_rejected_total{") ||
            !absl::StrContains(line, absl::StrCat("reason=\"", reason, "\""))) {
          continue;
        }
        double v = 0;
        if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) n += v;
      }
      std::cout << " " << reason << " " << n;
    }
    std::cout << "; duplicates answered " << MetricSum(*text, "inbeeld_ingest_events_duplicate_total") << std::endl;
  }
  // Acknowledged = every line meld did not report; a line it gave up on would be unknown, so none may be.
  std::set<size_t> rejected;
  for (absl::string_view l : absl::StrSplit(meld_out, '\n')) {
    size_t nr = 0;
    if (!absl::ConsumePrefix(&l, "line ")) continue;
    ASSERT_TRUE(absl::SimpleAtoi(l.substr(0, l.find(':')), &nr)) << l;
    EXPECT_EQ(l.find("not delivered"), absl::string_view::npos) << "meld gave up on a line: " << l;
    rejected.insert(nr);
  }
  ASSERT_TRUE(*meld_exit == 0 || *meld_exit == 1) << meld_out << (*meld)->Stderr();
  std::string acknowledged;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!rejected.contains(i + 1)) absl::StrAppend(&acknowledged, lines[i], "\n");
  }
  ASSERT_LT(rejected.size(), lines.size() / 10) << meld_out.substr(0, 2000);

  // Signaling has processed every record of the event topics (this run's and, on a shared cluster, earlier ones).
  const int64_t records = EventRecords();
  ASSERT_GE(records, static_cast<int64_t>(lines.size() - rejected.size()));
  const absl::Time deadline = absl::Now() + absl::Seconds(300);
  while (processed() < static_cast<double>(records) && absl::Now() < deadline && (*run)->Running()) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_GE(processed(), static_cast<double>(records)) << (*run)->Stderr();
  const double consumed_seconds = absl::ToDoubleSeconds(absl::Now() - meld_start);

  // Time moves past every timer; replay judges up to the same day.
  SetToday("2025-06-01");
  auto replayed = ReplayedSignals(acknowledged, absl::CivilDay(2025, 5, 31));
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  auto tabel = routing::OrganisatieTabel::Load(dir_.File("organisaties.csv"),
                                               testing_util::SourceDir() + "/deploy/config/herindelingen.csv");
  ASSERT_TRUE(tabel.ok()) << tabel.status();
  auto expected = ExpectedPerOrganisatie(*replayed, *tabel);
  ASSERT_TRUE(expected.ok()) << expected.status();

  auto complete = [&] {
    for (const auto& a : abonnees) {
      if (a->Distinct() < (*expected)[a->organisatie()].size()) return false;
    }
    return true;
  };
  while (!complete() && absl::Now() < deadline + absl::Seconds(120) && (*run)->Running()) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  const double delivered_seconds = absl::ToDoubleSeconds(absl::Now() - meld_start);
  absl::SleepFor(absl::Seconds(3));  // anything extra would come now
  std::vector<const Abonnee*> views;
  for (auto& a : abonnees) {
    a->Stop();
    EXPECT_EQ(a->EndedEarly(), "") << a->organisatie() << "'s subscription ended early";
    EXPECT_EQ(a->Misrouted(), 0) << a->organisatie();
    views.push_back(a.get());
  }
  ASSERT_TRUE((*run)->Running()) << "a service stopped:\n" << (*run)->Stderr();

  const Vergelijking v = Compare(*expected, views);
  std::cout << "replay: " << replayed->size() << " signals up to 2025-05-31\n" << v.Summary();
  std::cout << absl::StrFormat(
                   "timing: meld %.1f s (%.0f events/s acknowledged), all consumed by signaling %.1f s, all signals "
                   "delivered %.1f s after meld's start; whole test %.1f s\n",
                   meld_seconds, static_cast<double>(lines.size() - rejected.size()) / meld_seconds,
                   consumed_seconds, delivered_seconds, absl::ToDoubleSeconds(absl::Now() - t0))
            << "repeated deliveries (same signaal_id to the same subscriber): " << v.Repeats() << std::endl;
  for (const auto& [org, o] : v.per_organisatie) {
    for (size_t i = 0; i < 3 && i < o.missing.size(); ++i) std::cout << org << " missing " << o.missing[i] << "\n";
    for (size_t i = 0; i < 3 && i < o.extra.size(); ++i) std::cout << org << " extra " << o.extra[i] << "\n";
  }
  // Kafka failures the services rode out without a restart (a fatal librdkafka producer replaced, signaling's
  // loop resumed from its stored offsets).
  const std::string run_log = (*run)->Stderr();
  auto count = [&run_log](const std::string& what) {
    size_t n = 0;
    for (size_t at = run_log.find(what); at != std::string::npos; at = run_log.find(what, at + 1)) ++n;
    return n;
  };
  std::cout << "recovered in-process: " << count("replaced by a new producer") << " fatal producer(s) replaced, "
            << count("resuming from the stored offsets") << " signaling loop resume(s)" << std::endl;
  EXPECT_TRUE(v.Equal()) << v.Summary();
  size_t total_expected = 0;
  for (const auto& [org, o] : v.per_organisatie) total_expected += o.expected;
  EXPECT_GT(total_expected, static_cast<size_t>(jongeren)) << "the population should give signals";

  (*run)->Signal(SIGTERM);
  EXPECT_EQ((*run)->Wait(absl::Seconds(60)), std::optional<int>(0)) << (*run)->Stderr();
}

}  // namespace
}  // namespace inbeeld::kafka_test

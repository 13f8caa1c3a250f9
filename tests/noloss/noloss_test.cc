// Issue #14: nothing Kafka acknowledged may be lost without a trace.
//
// BulkLoadPastRetentionLosesNothing: generated school years of NOLOSS_JONGEREN
// jongeren (default 10 000, ~80 000 events; one partition per topic, so the
// verzuimmeldingen partition alone is ~2.5x the mock's ~5 MiB retention) go
// through inbeeld-ingest (with the holdback flags `inbeeld run` gives it) over
// 4 MeldBatch streams, while inbeeld-signaling starts late and is paused for a
// while (a slow consumer). Clients retry refused items with the same ids.
// Every acknowledged event must be consumed, and the signals must be those
// `inbeeld replay` computes from the same events.
// Full size (documented in docs/OPERATIONS.md):
//   NOLOSS_JONGEREN=100000 build/tests/noloss_test --gtest_filter='*Bulk*'
// The broken variant (ingest without holdback, as before #14) must fail:
//   NOLOSS_HOLDBACK=0 build/tests/noloss_test --gtest_filter='*Bulk*'
// and so must the code before #14 (silent skip):
//   NOLOSS_HOLDBACK=0 NOLOSS_BIN_DIR=<old build>/bin build/tests/noloss_test --gtest_filter='*Bulk*'
//
// AGapStopsThePartitionLoudly: records deleted by retention while signaling
// was down give the ERROR log line, the metric, NOT_SERVING, and no progress.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/common/school_year_mix.h"
#include "inbeeld/cli/demo_scenario.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "inbeeld/v1/signaal.pb.h"
#include "integration_support.h"
#include "inbeeld/signaling/replay/replay.h"
#include "child_process.h"

namespace inbeeld {
namespace {

using integration::MetricSum;

using testing_util::ChildProcess;
using testing_util::TempDir;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int n = 0;
  return v != nullptr && absl::SimpleAtoi(v, &n) ? n : fallback;
}


// Per label value of `label` in samples of `name`.
std::map<std::string, double> MetricBy(const std::string& text, const std::string& name, const std::string& label) {
  std::map<std::string, double> out;
  const std::string key = label + "=\"";
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name + "{")) continue;
    auto at = line.find(key);
    if (at == absl::string_view::npos) continue;
    auto end = line.find('"', at + key.size());
    double v = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v) && v > 0) {
      out[std::string(line.substr(at + key.size(), end - at - key.size()))] += v;
    }
  }
  return out;
}

// Unique ids per jongere: the generator reuses "i0", "m0", ... for everyone.
void MakeIdUnique(v1::Event& e, int jongere) {
  const std::string p = absl::StrCat("j", jongere, "-");
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding: e.mutable_verzuimmelding()->set_melding_id(p + e.verzuimmelding().melding_id()); break;
    case v1::Event::kInschrijvingsmutatie:
      e.mutable_inschrijvingsmutatie()->set_mutatie_id(p + e.inschrijvingsmutatie().mutatie_id());
      break;
    case v1::Event::kAdresmutatie: e.mutable_adresmutatie()->set_mutatie_id(p + e.adresmutatie().mutatie_id()); break;
    case v1::Event::kVrijstelling: e.mutable_vrijstelling()->set_id(p + e.vrijstelling().id()); break;
    default: break;
  }
}

class NoLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = kafka::EmbeddedCluster::Start(1);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    ASSERT_TRUE(cluster_->CreateTopics(kafka::InBeeldTopics(1, 1)).ok());
    date_file_ = dir_.File("today");
    SetToday("2023-07-01");  // before every event: no timer fires during the load
  }

  void SetToday(const std::string& day) {
    std::ofstream(date_file_ + ".tmp") << day << "\n";
    std::rename((date_file_ + ".tmp").c_str(), date_file_.c_str());
  }

  std::unique_ptr<ChildProcess> Start(const std::string& binary, std::vector<std::string> args,
                                      std::map<std::string, std::string>* ready) {
    const std::string ready_file = dir_.File(binary + ".ready");
    args.insert(args.begin(), {"--kafka=" + cluster_->bootstrap_servers(), "--grpc-listen=127.0.0.1:0",
                             "--metrics-listen=127.0.0.1:0", "--ready-file=" + ready_file, "--plaintext",
                             "--log-level=warn"});
    // NOLOSS_BIN_DIR runs other binaries (e.g. an older build, to measure the
    // behaviour before #14 with NOLOSS_HOLDBACK=0).
    const char* bin_dir = std::getenv("NOLOSS_BIN_DIR");
    auto child = ChildProcess::Start(bin_dir != nullptr ? std::string(bin_dir) + "/" + binary : binary, args,
                                     dir_.File(binary));
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return nullptr;
    auto r = testing_util::WaitForReadyFile(ready_file, absl::Seconds(60));
    EXPECT_TRUE(r.ok()) << r.status() << (*child)->Stderr();
    if (r.ok()) *ready = *r;
    return std::move(*child);
  }

  std::unique_ptr<ChildProcess> StartSignaling(std::map<std::string, std::string>* ready) {
    return Start("inbeeld-signaling",
                 {"--state-dir=" + dir_.File("signaling"), "--date-file=" + date_file_, "--tick=200ms",
                  "--sync-writes=false"},
                 ready);
  }

  std::string Metrics(const std::map<std::string, std::string>& ready) {
    auto text = integration::HttpGet(ready.at("metrics"), "/metrics");
    return text.ok() ? *text : "";
  }

  TempDir dir_;
  std::unique_ptr<kafka::EmbeddedCluster> cluster_;
  std::string date_file_;
};

struct SendResult {
  std::atomic<int64_t> acknowledged{0};  // OK answers (first time or duplicate)
  std::atomic<int64_t> held_back{0};     // RESOURCE_EXHAUSTED / UNAVAILABLE answers, retried
  std::atomic<int64_t> failed{0};        // anything else
};

// One client stream: sends `events` in MeldBatch calls of up to 500, and
// re-sends every item refused with a retryable status (same event, same id).
void SendAll(const std::string& address, std::vector<v1::Event> events, SendResult& result) {
  auto stub = v1::MeldingService::NewStub(integration::LocalChannel(address));
  while (!events.empty()) {
    std::vector<v1::Event> retry;
    for (size_t from = 0; from < events.size(); from += 500) {
      const size_t to = std::min(events.size(), from + 500);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      v1::BatchAntwoord answer;
      auto writer = stub->MeldBatch(&ctx, &answer);
      for (size_t i = from; i < to; ++i) writer->Write(events[i]);
      writer->WritesDone();
      grpc::Status st = writer->Finish();
      if (!st.ok()) {  // the whole call failed: every item again
        retry.insert(retry.end(), events.begin() + from, events.begin() + to);
        continue;
      }
      for (const auto& item : answer.items()) {
        if (item.code() == grpc::OK) {
          ++result.acknowledged;
        } else if (item.code() == grpc::RESOURCE_EXHAUSTED || item.code() == grpc::UNAVAILABLE) {
          ++result.held_back;
          retry.push_back(events[from + item.index()]);
        } else {
          ++result.failed;
        }
      }
    }
    if (!retry.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    events = std::move(retry);
  }
}

TEST_F(NoLossTest, BulkLoadPastRetentionLosesNothing) {
  const int jongeren = EnvInt("NOLOSS_JONGEREN", 10000);
  const bool holdback = EnvInt("NOLOSS_HOLDBACK", 1) != 0;
  std::mt19937 rng(14);
  std::vector<std::vector<v1::Event>> streams(4);
  std::string replay_input;
  int64_t total = 0;
  for (int j = 0; j < jongeren; ++j) {
    for (v1::Event& e : signaling::bench::SchoolYearMix(cli::SyntheticBsn(j), rng)) {
      MakeIdUnique(e, j);
      std::string json;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(e, &json).ok());
      replay_input += json + "\n";
      streams[j % 4].push_back(std::move(e));
      ++total;
    }
  }
  std::vector<std::string> ingest_args;
  if (holdback) {  // what `inbeeld run` gives ingest on the embedded cluster
    ingest_args.push_back("--holdback-max-bytes=" + std::to_string(kafka::kMockRetainedBytes / 2));
    ingest_args.push_back("--holdback-max-records=" + std::to_string(kafka::kMockRetainedBatches / 2));
  }
  std::map<std::string, std::string> ingest_ready, signaling_ready;
  auto ingest = Start("inbeeld-ingest", ingest_args, &ingest_ready);
  ASSERT_NE(ingest, nullptr);

  const absl::Time start = absl::Now();
  SendResult sent;
  std::vector<std::thread> senders;
  for (auto& s : streams) {
    senders.emplace_back([&, events = std::move(s)]() mutable { SendAll(ingest_ready.at("grpc"), std::move(events), sent); });
  }
  // The consumer is slow: it starts only after the load began, and is
  // paused for two seconds once it runs.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto signaling = StartSignaling(&signaling_ready);
  ASSERT_NE(signaling, nullptr);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  signaling->Signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  signaling->Signal(SIGCONT);
  for (auto& t : senders) t.join();
  const absl::Duration send_time = absl::Now() - start;

  // Wait until signaling consumed as many events as were acknowledged, or
  // made no progress for 20 s.
  double consumed = 0, last = -1;
  absl::Time progress = absl::Now();
  std::string text;
  while (absl::Now() - progress < absl::Seconds(20)) {
    text = Metrics(signaling_ready);
    consumed = MetricSum(text, "inbeeld_signaling_events_applied_total") +
               MetricSum(text, "inbeeld_signaling_events_duplicate_total");
    if (consumed >= sent.acknowledged.load()) break;
    if (consumed != last) {
      last = consumed;
      progress = absl::Now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const absl::Duration total_time = absl::Now() - start;
  const std::string ingest_metrics = Metrics(ingest_ready);
  if (std::getenv("NOLOSS_DEBUG") != nullptr) std::cout << "INGEST LOG\n" << ingest->Stdout() << ingest->Stderr() << std::endl;
  std::cout << "noloss: jongeren=" << jongeren << " events=" << total << " acknowledged=" << sent.acknowledged
            << " consumed=" << consumed << " held_back_answers=" << sent.held_back
            << " lost_records_metric=" << MetricSum(text, "inbeeld_kafka_records_lost_total")
            << " send_s=" << absl::ToDoubleSeconds(send_time) << " total_s=" << absl::ToDoubleSeconds(total_time)
            << std::endl;
  EXPECT_EQ(sent.failed.load(), 0);
  EXPECT_EQ(sent.acknowledged.load(), total);
  EXPECT_EQ(consumed, static_cast<double>(sent.acknowledged.load()));
  EXPECT_EQ(MetricSum(text, "inbeeld_kafka_records_lost_total"), 0);
  if (holdback) {
    // The load went past the retention: ingest must have held back.
    EXPECT_GT(sent.held_back.load(), 0) << ingest->Stderr().substr(0, 4000) << ingest->Stdout().substr(0, 4000);
    EXPECT_GT(MetricSum(ingest_metrics, "inbeeld_ingest_events_rejected_total"), 0);
  }

  // Judge every day once all facts are in, then compare with replay.
  SetToday("2025-06-01");
  signaling::ReplayOptions ro;
  ro.until = absl::CivilDay(2025, 5, 31);
  std::istringstream in(replay_input);
  std::ostringstream out;
  ASSERT_TRUE(signaling::Replay(in, out, ro).ok());
  std::map<std::string, double> expected;
  double expected_total = 0;
  for (absl::string_view line : absl::StrSplit(out.str(), '\n', absl::SkipEmpty())) {
    v1::Signaal s;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &s).ok());
    expected[absl::AsciiStrToLower(absl::StripPrefix(v1::SignaalSoort_Name(s.soort()), "SIGNAAL_SOORT_"))] += 1;
    ++expected_total;
  }
  std::map<std::string, double> live;
  for (int i = 0; i < 120; ++i) {
    live = MetricBy(Metrics(signaling_ready), "inbeeld_signaling_signals_total", "soort");
    double n = 0;
    for (const auto& [k, v] : live) n += v;
    if (n >= expected_total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_GT(expected_total, 0);
  EXPECT_EQ(live, expected);
}

TEST_F(NoLossTest, AGapStopsThePartitionLoudly) {
  // Records arrive while signaling is down, and retention deletes the oldest
  // before it comes back (the mock keeps ~5 MiB per partition).
  kafka::ClientOptions ko;
  ko.bootstrap_servers = cluster_->bootstrap_servers();
  auto producer = kafka::Producer::Create(ko);
  ASSERT_TRUE(producer.ok());
  const std::string topic(kafka::kTopicVerzuimmeldingen);
  const std::string filler(100 * 1024, 'x');
  for (int i = 0; i < 70; ++i) {
    ASSERT_TRUE((*producer)->Produce({topic, 0, "k", filler, {}}, [](const kafka::DeliveryReport&) {}).ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());

  std::map<std::string, std::string> ready;
  auto signaling = StartSignaling(&ready);
  ASSERT_NE(signaling, nullptr);
  std::string text;
  for (int i = 0; i < 120; ++i) {
    text = Metrics(ready);
    if (MetricSum(text, "inbeeld_kafka_records_lost_total") > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  const double lost = MetricSum(text, "inbeeld_kafka_records_lost_total");
  EXPECT_GT(lost, 0);
  EXPECT_LT(lost, 70);
  // The ERROR line names topic, partition and count.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::string log = signaling->Stdout() + signaling->Stderr();
  bool logged = false;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, "\"level\":\"error\"") && absl::StrContains(line, "records lost") &&
        absl::StrContains(line, "\"topic\":\"" + topic + "\"") && absl::StrContains(line, "\"partition\":\"0\"") &&
        absl::StrContains(line, absl::StrCat("\"records_lost\":\"", lost, "\""))) {
      logged = true;
    }
  }
  EXPECT_TRUE(logged) << log;
  // NOT_SERVING (the main loop checks every 200 ms).
  int health = 0;
  for (int i = 0; i < 40 && health != 2; ++i) {
    auto h = integration::HealthCheck(integration::LocalChannel(ready.at("grpc")), "");
    if (h.ok()) health = *h;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(health, 2);
  // No silent progress: nothing after the gap was read, applied or dead-lettered.
  text = Metrics(ready);
  EXPECT_EQ(MetricSum(text, "inbeeld_signaling_events_applied_total"), 0);
  EXPECT_EQ(MetricSum(text, "inbeeld_kafka_dlq_records_total"), 0);
  EXPECT_TRUE(signaling->Running());
}

}  // namespace
}  // namespace inbeeld

// Broker faults on the embedded cluster (issue #13 item 3). The test process
// hosts librdkafka's mock cluster (FaultyCluster, test-only) with three
// brokers; ingest, signaling, routing and delivery run as real processes
// against it, a subscriber reads rmc-21's stream. While events are sent the
// test injects one fault, holds it for a while, and lifts it; no process is
// restarted. Then, once the pipeline has caught up (bounded wait):
// - every event ingest acknowledged is on its topic (nothing acknowledged
//   that was not persisted); refused calls are retried with the same id;
// - events in (records on the event topics, repeats of an unacknowledged
//   retry included) = events processed (applied + recognised duplicates) +
//   dead-lettered (one poison record is always among them);
// - the distinct signaal_ids on inbeeld.signalen.v1 and at the subscriber are
//   exactly those `inbeeld replay` computes from the acknowledged events;
// - every process still runs (stalled and resumed by itself).
// Each test also runs the same checks on its own observations with one
// record taken away (a broken variant) and requires them to fail.
// Table of faults and outcomes: docs/OPERATIONS.md "Broker faults".
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "child_process.h"
#include "faulty_cluster.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "inbeeld/v1/signaal.pb.h"
#include "integration_support.h"
#include "pipeline_support.h"
#include "inbeeld/signaling/replay/replay.h"

namespace inbeeld::faults {
namespace {

using testing_util::TempDir;

constexpr int kBrokers = 3;
constexpr int kPartitions = 3;
constexpr char kSecret[] = "broker-fault-test-secret-0123456789";
// "Today" while sending: the meldingsdatum of every melding. Once everything
// is sent, today moves one day on so that signaling judges the end of that
// day, as replay does with --until 2025-03-10.
constexpr char kToday[] = "2025-03-10";
constexpr char kTomorrow[] = "2025-03-11";
// Every event is in gemeente 0363: all signals go to rmc-21.
constexpr char kOrganisatie[] = "rmc-21";
// Members survive a few seconds without a broker; a dead one is noticed fast.
constexpr char kConsumerConfig[] = "session.timeout.ms=10000,heartbeat.interval.ms=500";

// What the pipeline did, seen from outside.
struct Observed {
  std::set<std::string> persisted;    // ce_ids on the event topics
  int64_t event_records = 0;          // records on the event topics (poison included)
  double processed = 0;               // signaling: applied + duplicate
  double dead_lettered = 0;           // signaling: DLQ records
  std::set<std::string> signalen;     // distinct signaal_ids on inbeeld.signalen.v1
  std::set<std::string> subscribed;   // distinct signaal_ids at the subscriber
  // False after a restart of signaling: its counters began again at 0.
  bool counters_valid = true;
};

struct Reference {
  std::set<std::string> acknowledged;  // ce_ids ingest answered OK for
  std::set<std::string> signals;       // replay on the acknowledged events
};

// INBEELD_FAULT_LOG_DIR=dir: the services log at info level and a failing
// test leaves their logs there (the temp dir is removed).
std::string LogLevel() { return std::getenv("INBEELD_FAULT_LOG_DIR") != nullptr ? "info" : "warn"; }

template <typename T>
std::string Diff(const std::set<T>& want, const std::set<T>& got) {
  int missing = 0, extra = 0;
  for (const auto& x : want) missing += got.count(x) ? 0 : 1;
  for (const auto& x : got) extra += want.count(x) ? 0 : 1;
  return absl::StrCat(missing, " missing, ", extra, " extra");
}

std::vector<std::string> Problems(const Observed& o, const Reference& r) {
  std::vector<std::string> p;
  int unpersisted = 0;
  for (const auto& id : r.acknowledged) unpersisted += o.persisted.count(id) ? 0 : 1;
  if (unpersisted > 0) p.push_back(absl::StrCat(unpersisted, " acknowledged events are not on their topic"));
  if (o.counters_valid && o.event_records != static_cast<int64_t>(o.processed + o.dead_lettered)) {
    p.push_back(absl::StrCat("events in ", o.event_records, " != processed ", o.processed, " + DLQ ",
                             o.dead_lettered));
  }
  if (o.signalen != r.signals) p.push_back("signalen topic vs replay: " + Diff(r.signals, o.signalen));
  if (o.subscribed != r.signals) p.push_back("subscriber vs replay: " + Diff(r.signals, o.subscribed));
  return p;
}

int CountOf(const std::string& text, std::string_view needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// The checks must catch a lost record: a persisted event, a processed one,
// a signal on the topic, a signal at the subscriber.
void ExpectChecksCatchLoss(const Observed& o, const Reference& r) {
  ASSERT_FALSE(r.acknowledged.empty());
  ASSERT_FALSE(r.signals.empty());
  Observed lost_event = o;
  lost_event.persisted.erase(*r.acknowledged.begin());
  EXPECT_FALSE(Problems(lost_event, r).empty()) << "a lost acknowledged event went unnoticed";
  if (o.counters_valid) {
    Observed skipped = o;
    skipped.processed -= 1;
    EXPECT_FALSE(Problems(skipped, r).empty()) << "a skipped record went unnoticed";
  }
  Observed lost_signal = o;
  lost_signal.signalen.erase(*r.signals.begin());
  EXPECT_FALSE(Problems(lost_signal, r).empty()) << "a lost signal went unnoticed";
  Observed undelivered = o;
  undelivered.subscribed.erase(*r.signals.rbegin());
  EXPECT_FALSE(Problems(undelivered, r).empty()) << "an undelivered signal went unnoticed";
}

struct Answers {
  absl::Mutex mu;
  std::map<std::string, v1::Event> acknowledged ABSL_GUARDED_BY(mu);  // by ce_id
  std::map<int, int> refused ABSL_GUARDED_BY(mu);                      // gRPC code -> count
  std::vector<std::string> failures ABSL_GUARDED_BY(mu);
};

class BrokerFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = FaultyCluster::Start(kBrokers);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    ASSERT_TRUE(cluster_->CreateTopics(kafka::InBeeldTopics(kPartitions, kBrokers)).ok());
    std::ofstream(dir_.File("today")) << kToday << "\n";
    const std::string kafka = "--kafka=" + cluster_->bootstrap_servers();
    const std::string config_dir = testing_util::SourceDir() + "/deploy/config";
    const std::string secret = std::string("--pseudonym-secret=") + kSecret;
    const char* extra = std::getenv("INBEELD_FAULT_KAFKA_CONFIG");  // experiments with client settings
    const std::string consumer =
        std::string("--kafka-config=") + kConsumerConfig + (extra != nullptr ? std::string(",") + extra : "");
    const std::vector<std::string> common = {kafka, "--plaintext", "--grpc-listen=127.0.0.1:0",
                                             "--metrics-listen=127.0.0.1:0",
                                             "--log-level=" + LogLevel()};
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.begin(), common.begin(), common.end());
      return args;
    };
    // A short produce timeout: a broker fault shows as UNAVAILABLE quickly.
    ingest_ = std::make_unique<ServiceProcess>("inbeeld-ingest", with({secret, "--produce-timeout=1s"}), dir_.path());
    signaling_ = std::make_unique<ServiceProcess>(
        "inbeeld-signaling",
        with({secret, consumer, "--state-dir=" + dir_.File("signaling"), "--date-file=" + dir_.File("today"),
              "--tick=200ms", "--sync-writes=false"}),
        dir_.path());
    routing_ = std::make_unique<ServiceProcess>(
        "inbeeld-routing",
        with({consumer, "--state-dir=" + dir_.File("routing"), "--organisaties=" + config_dir + "/organisaties.csv",
              "--herindelingen=" + config_dir + "/herindelingen.csv", "--batch-timeout=50ms"}),
        dir_.path());
    delivery_ = std::make_unique<ServiceProcess>(
        "inbeeld-delivery", with({"--organisaties=" + config_dir + "/organisaties.csv"}), dir_.path());
    for (auto* p : Processes()) {
      absl::Status s = p->Start();
      ASSERT_TRUE(s.ok()) << s;
    }
    subscriber_ = std::make_unique<Subscriber>(kOrganisatie, [this] { return delivery_->Ready("grpc"); });
    subscriber_->Start();
    // One poison record: it must end in the DLQ, not stop anything.
    kafka::ClientOptions ko;
    ko.bootstrap_servers = cluster_->bootstrap_servers();
    auto producer = kafka::Producer::Create(ko);
    ASSERT_TRUE(producer.ok());
    ASSERT_TRUE((*producer)
                    ->Produce({std::string(kafka::kTopicVerzuimmeldingen), 0, "poison", "not an event", {}},
                              [](const kafka::DeliveryReport&) {})
                    .ok());
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(10)).ok());
  }

  void TearDown() override {
    if (subscriber_) subscriber_->Stop();
    // Faults are lifted: every process must still stop cleanly.
    for (auto* p : {delivery_.get(), routing_.get(), signaling_.get(), ingest_.get()}) {
      if (p == nullptr) continue;
      absl::Status s = p->Stop();
      EXPECT_TRUE(s.ok()) << s;
    }
  }

  std::vector<ServiceProcess*> Processes() { return {ingest_.get(), signaling_.get(), routing_.get(), delivery_.get()}; }

  // `n` events from `first` on: verzuimmeldingen, every fourth an inschrijving.
  static std::vector<v1::Event> Events(int first, int n) {
    std::vector<v1::Event> out;
    for (int i = first; i < first + n; ++i) {
      const std::string id = absl::StrCat("fault-", i);
      out.push_back(i % 4 == 3 ? integration::ValidInschrijving(1000 + i, id)
                               : integration::ValidVerzuimMelding(1000 + i, id));
    }
    return out;
  }

  // Sends each event until ingest acknowledges it (UNAVAILABLE,
  // RESOURCE_EXHAUSTED and DEADLINE_EXCEEDED are retried with the same id).
  void Send(const std::vector<v1::Event>& events) {
    auto stub = v1::MeldingService::NewStub(integration::LocalChannel(ingest_->Ready("grpc")));
    for (const v1::Event& e : events) {
      const absl::Time bound = absl::Now() + absl::Seconds(60);
      while (true) {
        v1::MeldAntwoord antwoord;
        grpc::Status st = integration::Send(*stub, e, &antwoord, std::chrono::seconds(5));
        const bool retry = st.error_code() == grpc::UNAVAILABLE || st.error_code() == grpc::RESOURCE_EXHAUSTED ||
                           st.error_code() == grpc::DEADLINE_EXCEEDED;
        {
          absl::MutexLock lock(&answers_.mu);
          if (st.ok()) {
            answers_.acknowledged[events::CeId(e)] = e;
            break;
          }
          ++answers_.refused[st.error_code()];
          if (!retry || absl::Now() > bound) {
            answers_.failures.push_back(absl::StrCat(st.error_code(), " ", st.error_message()));
            break;
          }
        }
        absl::SleepFor(absl::Milliseconds(200));
      }
    }
  }

  // Sends a first part, then the middle part on two client threads while the
  // fault is applied, held and lifted, then the rest.
  void SendAround(const std::function<void()>& apply, absl::Duration hold, const std::function<void()>& lift) {
    Send(Events(0, 40));
    // The fault hits a running pipeline: the first part is through.
    const absl::Time bound = absl::Now() + absl::Seconds(60);
    while (subscriber_->Received().size() < 30 && absl::Now() < bound) absl::SleepFor(absl::Milliseconds(50));
    ASSERT_GE(subscriber_->Received().size(), 30u) << "the pipeline did not start";
    std::thread a([&] { Send(Events(40, 60)); });
    std::thread b([&] { Send(Events(100, 60)); });
    absl::SleepFor(absl::Milliseconds(100));
    apply();
    absl::SleepFor(hold);
    lift();
    a.join();
    b.join();
    Send(Events(160, 40));
    absl::MutexLock lock(&answers_.mu);
    EXPECT_TRUE(answers_.failures.empty()) << absl::StrJoin(answers_.failures, "\n");
  }

  Reference MakeReference() {
    Reference r;
    std::string lines;
    {
      absl::MutexLock lock(&answers_.mu);
      for (const auto& [id, e] : answers_.acknowledged) {
        r.acknowledged.insert(id);
        std::string json;
        EXPECT_TRUE(google::protobuf::util::MessageToJsonString(e, &json).ok());
        lines += json + "\n";
      }
    }
    signaling::ReplayOptions ro;
    ro.until = absl::CivilDay(2025, 3, 10);
    ro.pseudonym_secret = kSecret;
    std::istringstream in(lines);
    std::ostringstream out;
    absl::Status s = signaling::Replay(in, out, ro);
    EXPECT_TRUE(s.ok()) << s;
    for (absl::string_view line : absl::StrSplit(out.str(), '\n', absl::SkipEmpty())) {
      v1::Signaal sig;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &sig).ok());
      r.signals.insert(sig.signaal_id());
    }
    return r;
  }

  Observed Observe() {
    Observed o;
    for (std::string_view topic : kafka::kEventTopics) {
      auto records = integration::ReadTopic(cluster_->bootstrap_servers(), topic);
      EXPECT_TRUE(records.ok()) << records.status();
      if (!records.ok()) continue;
      for (const auto& rec : *records) {
        ++o.event_records;
        if (auto id = kafka::FindHeader(rec.headers, kafka::kHeaderCeId)) o.persisted.insert(*id);
      }
    }
    const std::string m = signaling_->Metrics();
    o.processed =
        MetricSum(m, "inbeeld_signaling_events_applied_total") + MetricSum(m, "inbeeld_signaling_events_duplicate_total");
    o.dead_lettered = MetricSum(m, "inbeeld_kafka_dlq_records_total");
    auto signalen = integration::ReadTopic(cluster_->bootstrap_servers(), kafka::kTopicSignalen);
    EXPECT_TRUE(signalen.ok()) << signalen.status();
    if (signalen.ok()) {
      for (const auto& rec : *signalen) {
        v1::Signaal s;
        if (s.ParseFromString(rec.value)) o.signalen.insert(s.signaal_id());
      }
    }
    for (const auto& [id, copies] : subscriber_->Received()) o.subscribed.insert(id);
    return o;
  }

  // Waits (bounded) until the pipeline caught up, then checks everything. No
  // process is restarted: a signaling batch that Kafka did not acknowledge in
  // its flush timeout (30 s) makes signaling resume from its stored offsets in
  // the same process. That resume applies the batch again, so the event
  // counters then count it twice: they are compared only when no resume
  // happened (signals, persisted ids and the subscriber are compared always).
  void ExpectNothingLost(const std::string& fault) {
    std::ofstream(dir_.File("today.tmp")) << kTomorrow << "\n";
    ASSERT_EQ(std::rename(dir_.File("today.tmp").c_str(), dir_.File("today").c_str()), 0);
    const Reference r = MakeReference();
    Observed o;
    std::vector<std::string> problems;
    const absl::Time began = absl::Now();
    int resumes = 0;
    do {
      absl::SleepFor(absl::Milliseconds(500));
      ASSERT_TRUE(signaling_->Running()) << "signaling must resume by itself\n" << signaling_->LogTail();
      o = Observe();
      resumes = CountOf(signaling_->Log(), "resuming from the stored offsets");
      o.counters_valid = resumes == 0;
      problems = Problems(o, r);
    } while (!problems.empty() && absl::Now() - began < absl::Seconds(90));
    const absl::Duration caught_up = absl::Now() - began;
    std::map<int, int> refused;
    {
      absl::MutexLock lock(&answers_.mu);
      refused = answers_.refused;
    }
    std::cout << "BROKER FAULT " << fault << ": acknowledged=" << r.acknowledged.size()
              << " event records=" << o.event_records << " processed=" << o.processed << " dlq=" << o.dead_lettered
              << " signals=" << o.signalen.size() << "/" << r.signals.size()
              << " at subscriber=" << o.subscribed.size() << " refused answers by code={"
              << absl::StrJoin(refused, ",", absl::PairFormatter(":")) << "} caught up "
              << absl::FormatDuration(caught_up) << " after the last send; signaling resumes in process=" << resumes
              << std::endl;
    EXPECT_TRUE(problems.empty()) << fault << ":\n  " << absl::StrJoin(problems, "\n  ")
                                  << signaling_->LogTail() << routing_->LogTail();
    if (o.counters_valid) {
      EXPECT_EQ(o.dead_lettered, 1) << "the poison record";
    }
    for (auto* p : Processes()) EXPECT_TRUE(p->Running()) << p->LogTail();
    ExpectChecksCatchLoss(o, r);
    const char* log_dir = std::getenv("INBEELD_FAULT_LOG_DIR");
    if (HasFailure() && log_dir != nullptr) {
      const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
      for (auto* p : Processes()) std::ofstream(absl::StrCat(log_dir, "/", test, "-", p->Ready("service"), ".log")) << p->Log();
    }
  }

  int Refused(grpc::StatusCode code) {
    absl::MutexLock lock(&answers_.mu);
    return answers_.refused[code];
  }

  TempDir dir_;
  std::unique_ptr<FaultyCluster> cluster_;
  std::unique_ptr<ServiceProcess> ingest_, signaling_, routing_, delivery_;
  std::unique_ptr<Subscriber> subscriber_;
  Answers answers_;
};

TEST_F(BrokerFaultTest, NoFaultBaseline) {
  SendAround([] {}, absl::Seconds(1), [] {});
  ExpectNothingLost("none");
}

TEST_F(BrokerFaultTest, ProduceRequestErrors) {
  SendAround(
      [&] {
        cluster_->FailNextRequests(Request::kProduce, 40, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
        cluster_->FailNextRequests(Request::kProduce, 10, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
        cluster_->FailNextRequests(Request::kProduce, 10, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
      },
      absl::Seconds(3), [&] { cluster_->ClearRequestErrors(Request::kProduce); });
  ExpectNothingLost("Produce errors");
}

TEST_F(BrokerFaultTest, FetchRequestErrors) {
  SendAround(
      [&] {
        cluster_->FailNextRequests(Request::kFetch, 40, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
        cluster_->FailNextRequests(Request::kFetch, 20, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
      },
      absl::Seconds(3), [&] { cluster_->ClearRequestErrors(Request::kFetch); });
  ExpectNothingLost("Fetch errors");
}

TEST_F(BrokerFaultTest, OffsetCommitRequestErrors) {
  SendAround(
      [&] {
        cluster_->FailNextRequests(Request::kOffsetCommit, 10, RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
        cluster_->FailNextRequests(Request::kOffsetCommit, 10, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
        cluster_->FailNextRequests(Request::kOffsetCommit, 10, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS);
      },
      absl::Seconds(3), [&] { cluster_->ClearRequestErrors(Request::kOffsetCommit); });
  ExpectNothingLost("OffsetCommit errors");
}

TEST_F(BrokerFaultTest, AllBrokersDownAndUp) {
  const v1::Event probe = integration::ValidVerzuimMelding(99, "while-down");
  SendAround(
      [&] {
        ASSERT_TRUE(cluster_->SetBrokerDown(-1).ok());
        // While no broker answers, ingest must refuse (and store nothing).
        auto stub = v1::MeldingService::NewStub(integration::LocalChannel(ingest_->Ready("grpc")));
        v1::MeldAntwoord antwoord;
        grpc::Status st = integration::Send(*stub, probe, &antwoord, std::chrono::seconds(5));
        EXPECT_EQ(st.error_code(), grpc::UNAVAILABLE) << st.error_message();
      },
      absl::Seconds(3), [&] { ASSERT_TRUE(cluster_->SetBrokerUp(-1).ok()); });
  EXPECT_GT(Refused(grpc::UNAVAILABLE), 0);
  // Refused is not "never stored": it may land once the brokers are back;
  // the client retries with the same id like every other refused event.
  Send({probe});
  ExpectNothingLost("all brokers down 3 s");
}

TEST_F(BrokerFaultTest, OneBrokerDownAndUp) {
  SendAround([&] { ASSERT_TRUE(cluster_->SetBrokerDown(2).ok()); }, absl::Seconds(3),
             [&] { ASSERT_TRUE(cluster_->SetBrokerUp(2).ok()); });
  ExpectNothingLost("broker 2 down 3 s");
}

TEST_F(BrokerFaultTest, SlowAcknowledgements) {
  // Longer than ingest's produce timeout: events are refused yet stored
  // later, and their retries are recognised as the same events.
  SendAround([&] { ASSERT_TRUE(cluster_->SetRoundTrip(-1, 1500).ok()); }, absl::Seconds(3),
             [&] { ASSERT_TRUE(cluster_->SetRoundTrip(-1, 0).ok()); });
  ExpectNothingLost("rtt 1.5 s for 3 s");
}

TEST_F(BrokerFaultTest, PartitionLeaderChange) {
  SendAround(
      [&] {
        for (const kafka::TopicSpec& t : kafka::InBeeldTopics(kPartitions, kBrokers)) {
          for (int p = 0; p < t.partitions; ++p) {
            ASSERT_TRUE(cluster_->SetLeader(t.name, p, 1 + (p + 1) % kBrokers).ok());
          }
        }
      },
      absl::Seconds(1), [] {});
  ExpectNothingLost("leader change of every partition");
}

}  // namespace
}  // namespace inbeeld::faults

// The routing loop against the embedded Kafka mock: routing, dedupe, DLQ,
// headers, metrics, and restart from the offsets in the RoutingStore.
#include "inbeeld/routing/routing_service.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/topics.h"
#include "prometheus/registry.h"

namespace inbeeld::routing {
namespace {

namespace fs = std::filesystem;
using ::testing::UnorderedElementsAre;

const std::string kConfig = std::string(INBEELD_SOURCE_DIR) + "/deploy/config";
constexpr int kPartitions = 2;
// Upper bound on batches/polls while waiting for the mock (a liveness bound,
// not a timing assertion).
constexpr int kMaxRounds = 600;

v1::Signaal MakeSignaal(std::string id, v1::SignaalSoort soort, std::string woongemeente,
                        std::string peildatum = "2024-03-01") {
  v1::Signaal s;
  s.set_signaal_id(std::move(id));
  s.set_soort(soort);
  s.set_pseudoniem(std::string(64, 'b'));
  s.set_woongemeente(std::move(woongemeente));
  s.set_peildatum(std::move(peildatum));
  return s;
}

// Delegates to a real store; Commit fails while `fail_commit` is set (a crash
// after the outputs were flushed, before the state was written).
class FailingStore final : public RoutingStore {
 public:
  explicit FailingStore(RoutingStore& inner) : inner_(inner) {}
  absl::StatusOr<bool> IsRouted(std::string_view id) const override { return inner_.IsRouted(id); }
  absl::StatusOr<std::optional<int64_t>> NextOffset(const kafka::TopicPartition& tp) const override {
    return inner_.NextOffset(tp);
  }
  absl::Status Commit(const std::vector<std::string>& ids,
                      const std::map<kafka::TopicPartition, int64_t>& offsets) override {
    if (fail_commit) return absl::UnavailableError("simulated crash before commit");
    return inner_.Commit(ids, offsets);
  }
  bool fail_commit = false;

 private:
  RoutingStore& inner_;
};

// Delegates to a real producer but holds every delivery report until the
// test releases it: the test decides when Kafka "acknowledged" what.
class HoldingProducer final : public kafka::Producer {
 public:
  explicit HoldingProducer(std::unique_ptr<kafka::Producer> inner) : inner_(std::move(inner)) {}
  absl::Status Produce(const kafka::OutRecord& record,
                       std::function<void(const kafka::DeliveryReport&)> on_delivery) override {
    v1::Signaal s;
    std::string id = s.ParseFromString(record.value) ? s.signaal_id() : "";
    {
      absl::MutexLock lock(&mu_);
      produced_.push_back(id);
    }
    return inner_->Produce(record, [this, id, on_delivery](const kafka::DeliveryReport& r) {
      absl::MutexLock lock(&mu_);
      held_.push_back({id, r, on_delivery});
    });
  }
  absl::StatusOr<kafka::DeliveryReport> ProduceSync(kafka::OutRecord record, absl::Duration timeout) override {
    return inner_->ProduceSync(std::move(record), timeout);
  }
  absl::Status Flush(absl::Duration timeout) override { return inner_->Flush(timeout); }
  int OutstandingMessages() const override { return inner_->OutstandingMessages(); }

  // signaal_ids of the records produced so far, in order.
  std::vector<std::string> Produced() {
    absl::MutexLock lock(&mu_);
    return produced_;
  }
  // Waits (bounded) until `n` reports are held.
  bool AwaitHeld(size_t n) {
    for (int round = 0; round < kMaxRounds * 5; ++round) {
      {
        absl::MutexLock lock(&mu_);
        if (held_.size() >= n) return true;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }
  // Hands the held reports of `signaal_id` to the service.
  void Release(const std::string& signaal_id) {
    std::vector<Held> out;
    {
      absl::MutexLock lock(&mu_);
      for (auto it = held_.begin(); it != held_.end();) {
        if (it->id == signaal_id) {
          out.push_back(std::move(*it));
          it = held_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (Held& h : out) h.on_delivery(h.report);
  }

 private:
  struct Held {
    std::string id;
    kafka::DeliveryReport report;
    std::function<void(const kafka::DeliveryReport&)> on_delivery;
  };
  std::unique_ptr<kafka::Producer> inner_;
  absl::Mutex mu_;
  std::vector<std::string> produced_ ABSL_GUARDED_BY(mu_);
  std::vector<Held> held_ ABSL_GUARDED_BY(mu_);
};

// Delegates to a real store and records every commit.
class RecordingStore final : public RoutingStore {
 public:
  explicit RecordingStore(RoutingStore& inner) : inner_(inner) {}
  absl::StatusOr<bool> IsRouted(std::string_view id) const override { return inner_.IsRouted(id); }
  absl::StatusOr<std::optional<int64_t>> NextOffset(const kafka::TopicPartition& tp) const override {
    return inner_.NextOffset(tp);
  }
  absl::Status Commit(const std::vector<std::string>& ids,
                      const std::map<kafka::TopicPartition, int64_t>& offsets) override {
    commits.push_back({ids, offsets});
    return inner_.Commit(ids, offsets);
  }
  std::vector<std::pair<std::vector<std::string>, std::map<kafka::TopicPartition, int64_t>>> commits;

 private:
  RoutingStore& inner_;
};

class RoutingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = kafka::EmbeddedCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    ASSERT_TRUE(cluster_
                    ->CreateTopics({{std::string(kafka::kTopicSignalen), kPartitions},
                                    {std::string(kafka::kTopicAflevering), kPartitions},
                                    {kafka::DlqTopic(kafka::kTopicSignalen), 1}})
                    .ok());
    auto tabel = OrganisatieTabel::Load(kConfig + "/organisaties.csv",
                                        kConfig + "/herindelingen.csv");
    ASSERT_TRUE(tabel.ok()) << tabel.status();
    tabel_ = std::make_shared<const OrganisatieTabel>(*std::move(tabel));
    dir_ = fs::temp_directory_path() /
           absl::StrCat("inbeeld-routing-service-", ::getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    OpenStore();
    auto producer = kafka::Producer::Create(Client());
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = *std::move(producer);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  void OpenStore() {
    store_.reset();
    auto store = RoutingStore::Open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  kafka::ClientOptions Client() const {
    kafka::ClientOptions o;
    o.bootstrap_servers = cluster_->bootstrap_servers();
    return o;
  }

  // What the lag dashboards see of `group` on the signal topic.
  std::unique_ptr<kafka::BacklogMonitor> WatchGroup(const std::string& group) const {
    kafka::BacklogOptions bo;
    bo.kafka = Client();
    bo.group_id = group;
    bo.topics = {std::string(kafka::kTopicSignalen)};
    bo.refresh = absl::Milliseconds(100);
    auto monitor = kafka::BacklogMonitor::Start(bo);
    EXPECT_TRUE(monitor.ok()) << monitor.status();
    return monitor.ok() ? *std::move(monitor) : nullptr;
  }
  struct GroupBacklog {
    int64_t records = 0;  // end minus the group's committed offsets
    int64_t end = 0;      // records in the topic
  };
  static GroupBacklog SumOf(const kafka::BacklogMonitor& monitor) {
    GroupBacklog sum;
    for (const auto& [tp, b] : monitor.Snapshot()) {
      sum.records += b.records();
      sum.end += b.end;
    }
    return sum;
  }

  std::unique_ptr<RoutingService> NewService(RoutingStore& store,
                                            std::function<void(RoutingServiceOptions&)> adjust = {}) {
    RoutingServiceOptions options;
    options.kafka = Client();
    options.session_timeout_ms = 6000;
    options.max_batch_time = absl::Milliseconds(300);
    if (adjust) adjust(options);
    auto service = RoutingService::Create(options, store, [this] { return tabel_; }, registry_);
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? *std::move(service) : nullptr;
  }

  void Produce(const v1::Signaal& s, kafka::Headers headers = {}) {
    ProduceRaw(s.pseudoniem() + s.signaal_id(), s.SerializeAsString(), std::move(headers));
  }
  void ProduceRaw(std::string key, std::string value, kafka::Headers headers = {}) {
    auto report = producer_->ProduceSync({std::string(kafka::kTopicSignalen), kafka::kAnyPartition,
                                          std::move(key), std::move(value), std::move(headers)},
                                         absl::Seconds(10));
    ASSERT_TRUE(report.ok()) << report.status();
  }

  // Runs batches until `n` input records were committed.
  void RunUntilCommitted(RoutingService& service, int n) {
    int done = 0;
    for (int round = 0; round < kMaxRounds && done < n; ++round) {
      auto batch = service.RunBatch();
      ASSERT_TRUE(batch.ok()) << batch.status();
      done += *batch;
    }
    ASSERT_EQ(done, n);
  }

  // Everything on `topic`, read by a fresh group until `expected` records
  // arrived and the topic then stays quiet for a few polls.
  std::vector<kafka::InRecord> ReadAll(const std::string& topic, size_t expected) {
    kafka::ConsumerOptions co;
    static_cast<kafka::ClientOptions&>(co) = Client();
    co.group_id = absl::StrCat("verify-", ++verify_groups_);
    co.topics = {topic};
    co.session_timeout_ms = 6000;
    auto consumer = kafka::Consumer::Create(co);
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    std::vector<kafka::InRecord> records;
    int quiet = 0;
    for (int round = 0; round < kMaxRounds; ++round) {
      auto r = (*consumer)->Poll(absl::Milliseconds(100));
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok() && r->has_value()) {
        records.push_back(**r);
        quiet = 0;
      } else if (records.size() >= expected && ++quiet >= 5) {
        break;
      }
    }
    (*consumer)->Close();
    return records;
  }

  static std::vector<std::string> Destinations(const std::vector<kafka::InRecord>& records) {
    std::vector<std::string> out;
    for (const kafka::InRecord& r : records) {
      v1::Signaal s;
      EXPECT_TRUE(s.ParseFromString(r.value));
      EXPECT_EQ(r.key, s.organisatie());
      out.push_back(absl::StrCat(s.signaal_id(), "->", s.organisatie()));
    }
    return out;
  }

  double Counter(const std::string& name, const std::string& label_value = "") {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      double total = 0;
      for (const auto& m : family.metric) {
        if (label_value.empty() || (!m.label.empty() && m.label[0].value == label_value)) {
          total += family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
        }
      }
      return total;
    }
    return 0;
  }

  std::unique_ptr<kafka::EmbeddedCluster> cluster_;
  std::unique_ptr<kafka::Producer> producer_;
  std::shared_ptr<const OrganisatieTabel> tabel_;
  std::unique_ptr<RoutingStore> store_;
  fs::path dir_;
  prometheus::Registry registry_;
  int verify_groups_ = 0;
};

// The DLQ panel and alert have a series (and increase() a baseline) before
// the first poison record.
TEST_F(RoutingServiceTest, DlqCounterOfTheInputTopicExistsAtZero) {
  auto service = NewService(*store_);
  ASSERT_NE(service, nullptr);
  bool found = false;
  for (const auto& family : registry_.Collect()) {
    if (family.name != "inbeeld_kafka_dlq_records_total") continue;
    for (const auto& m : family.metric) {
      found |= m.label.size() == 1 && m.label[0].name == "topic" && m.label[0].value == kafka::kTopicSignalen &&
               m.counter.value == 0;
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(service->Stop().ok());
}

// increase() misses the first increment of a series that appears with it:
// every organisation of the table has its routed counter at 0 from the start.
TEST_F(RoutingServiceTest, RoutedCounterOfEveryOrganisationExistsAtZero) {
  auto service = NewService(*store_);
  ASSERT_NE(service, nullptr);
  std::set<std::string> organisaties;
  for (const OrganisatieRegel& regel : tabel_->regels()) {
    organisaties.insert(regel.organisatie_id);
    organisaties.insert(regel.achttien_plus_organisatie_id);
  }
  ASSERT_FALSE(organisaties.empty());
  std::set<std::string> at_zero;
  for (const auto& family : registry_.Collect()) {
    if (family.name != "inbeeld_routing_signals_routed_total") continue;
    for (const auto& m : family.metric) {
      if (m.label.size() == 1 && m.label[0].name == "organisatie" && m.counter.value == 0) {
        at_zero.insert(m.label[0].value);
      }
    }
  }
  EXPECT_EQ(at_zero, organisaties);
  EXPECT_TRUE(service->Stop().ok());
}

TEST_F(RoutingServiceTest, RoutesDedupesAndDeadLetters) {
  auto service = NewService(*store_);
  ASSERT_NE(service, nullptr);

  Produce(MakeSignaal("s1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363"),
          {{std::string(kafka::kHeaderIngestTime), "2024-03-01T10:00:00Z"}});
  Produce(MakeSignaal("s1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363"));  // duplicate
  ProduceRaw("garbage-key", "garbage");
  v1::Signaal overdracht = MakeSignaal("s2", v1::SIGNAAL_SOORT_OVERDRACHT, "0363");
  overdracht.set_vorige_woongemeente("0599");
  Produce(overdracht);
  RunUntilCommitted(*service, 4);

  // A later duplicate is found in the store, not only within a batch.
  Produce(MakeSignaal("s1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363"));
  Produce(MakeSignaal("s3", v1::SIGNAAL_SOORT_UIT_BEELD, "0788", "2021-06-01"));  // Haaren
  Produce(MakeSignaal("s4", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "1999"));
  Produce(MakeSignaal("s5", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363", "2024-02-30"));
  RunUntilCommitted(*service, 4);
  EXPECT_TRUE(service->Stop().ok());

  std::vector<kafka::InRecord> out = ReadAll(std::string(kafka::kTopicAflevering), 6);
  EXPECT_THAT(Destinations(out),
              UnorderedElementsAre("s1->rmc-21", "s2->rmc-21", "s2->rmc-29", "s3->rmc-35",
                                   "s3->rmc-36", "s4->onbekend"));
  for (const kafka::InRecord& r : out) {
    v1::Signaal s;
    ASSERT_TRUE(s.ParseFromString(r.value));
    EXPECT_EQ(s.route_ambigu(), s.signaal_id() == "s3");
    if (s.signaal_id() == "s2") {
      EXPECT_EQ(s.vorige_organisatie(), "rmc-29");
    }
    EXPECT_EQ(kafka::FindHeader(r.headers, kafka::kHeaderIngestTime),
              s.signaal_id() == "s1" ? std::optional<std::string>("2024-03-01T10:00:00Z")
                                     : std::nullopt);
  }

  std::vector<kafka::InRecord> dlq = ReadAll(kafka::DlqTopic(kafka::kTopicSignalen), 2);
  ASSERT_EQ(dlq.size(), 2u);
  std::vector<std::string> errors;
  for (const kafka::InRecord& r : dlq) {
    EXPECT_EQ(kafka::FindHeader(r.headers, kafka::kHeaderDlqTopic),
              std::string(kafka::kTopicSignalen));
    EXPECT_TRUE(kafka::FindHeader(r.headers, kafka::kHeaderDlqPartition).has_value());
    EXPECT_TRUE(kafka::FindHeader(r.headers, kafka::kHeaderDlqOffset).has_value());
    errors.push_back(kafka::FindHeader(r.headers, kafka::kHeaderDlqError).value_or(""));
    if (r.key == "garbage-key") {
      EXPECT_EQ(r.value, "garbage");
    }
  }
  EXPECT_THAT(errors, UnorderedElementsAre("value is not a serialized inbeeld.v1.Signaal",
                                           "peildatum \"2024-02-30\" is not a date"));

  EXPECT_EQ(Counter("inbeeld_routing_duplicates_total"), 2);
  EXPECT_EQ(Counter("inbeeld_routing_unknown_routes_total"), 1);
  EXPECT_EQ(Counter("inbeeld_routing_ambiguous_routes_total"), 1);
  EXPECT_EQ(Counter("inbeeld_routing_signals_routed_total", "rmc-21"), 2);
  EXPECT_EQ(Counter("inbeeld_routing_signals_routed_total"), 6);
  EXPECT_EQ(Counter("inbeeld_kafka_dlq_records_total", std::string(kafka::kTopicSignalen)), 2);
  EXPECT_EQ(Counter("inbeeld_routing_gemeente_organisatie_info"), 342);
}

TEST_F(RoutingServiceTest, RestartResumesFromStoredOffsets) {
  // First run: two signals, a clean stop.
  {
    auto service = NewService(*store_);
    ASSERT_NE(service, nullptr);
    Produce(MakeSignaal("a1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363"));
    Produce(MakeSignaal("a2", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0599"));
    RunUntilCommitted(*service, 2);
    EXPECT_TRUE(service->Stop().ok());
  }
  OpenStore();  // as a new process would

  // Second run: crashes after flushing its batch, before the commit.
  Produce(MakeSignaal("b1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0014"));
  {
    FailingStore failing(*store_);
    failing.fail_commit = true;
    auto service = NewService(failing);
    ASSERT_NE(service, nullptr);
    absl::Status failed;
    for (int round = 0; round < kMaxRounds && failed.ok(); ++round) {
      auto batch = service->RunBatch();
      if (!batch.ok()) failed = batch.status();
    }
    EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable);
  }
  OpenStore();

  // Third run: starts at the stored offsets, so a1/a2 are not read again;
  // b1 is read again (its commit was lost) and produced again identically.
  Produce(MakeSignaal("c1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "1992"));
  {
    auto service = NewService(*store_);
    ASSERT_NE(service, nullptr);
    RunUntilCommitted(*service, 2);  // b1 and c1 only
    EXPECT_TRUE(service->Stop().ok());
  }

  std::vector<kafka::InRecord> out = ReadAll(std::string(kafka::kTopicAflevering), 5);
  EXPECT_THAT(Destinations(out), UnorderedElementsAre("a1->rmc-21", "a2->rmc-29", "b1->rmc-3",
                                                      "b1->rmc-3", "c1->rmc-29"));
  // The repeat is byte-for-byte the same record.
  std::vector<std::string> b1;
  for (const kafka::InRecord& r : out) {
    if (r.value.find("b1") != std::string::npos) b1.push_back(r.value);
  }
  ASSERT_EQ(b1.size(), 2u);
  EXPECT_EQ(b1[0], b1[1]);

  // Everything routed is in the store: a fourth run routes nothing twice.
  Produce(MakeSignaal("c1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "1992"));
  {
    auto service = NewService(*store_);
    ASSERT_NE(service, nullptr);
    RunUntilCommitted(*service, 1);
    EXPECT_TRUE(service->Stop().ok());
  }
  EXPECT_EQ(ReadAll(std::string(kafka::kTopicAflevering), 5).size(), 5u);
  EXPECT_EQ(Counter("inbeeld_routing_duplicates_total"), 1);
}

// Pipelined: a signal repeated in a later batch while the batch that routed
// it is still in flight (not acknowledged, not committed) is routed once; and
// commits stay in batch order, each after its own outputs were acknowledged,
// even when a later batch is acknowledged first.
TEST_F(RoutingServiceTest, BatchesInFlightDedupeAndCommitInOrder) {
  RecordingStore recording(*store_);
  HoldingProducer* holding = nullptr;
  auto service = NewService(recording, [&](RoutingServiceOptions& o) {
    o.batches_in_flight = 4;
    o.max_batch_records = 1;  // one record per batch: three batches
    o.max_batch_time = absl::Seconds(10);  // a poll waits for its record
    o.producer_factory = [&](const kafka::ClientOptions& c) -> absl::StatusOr<std::unique_ptr<kafka::Producer>> {
      auto inner = kafka::Producer::Create(c);
      if (!inner.ok()) return inner.status();
      auto p = std::make_unique<HoldingProducer>(*std::move(inner));
      holding = p.get();
      return std::unique_ptr<kafka::Producer>(std::move(p));
    };
  });
  ASSERT_NE(service, nullptr);
  ASSERT_NE(holding, nullptr);
  // One key: one partition, read in this order.
  const std::string key(64, 'k');
  ProduceRaw(key, MakeSignaal("i1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363").SerializeAsString());
  ProduceRaw(key, MakeSignaal("i1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363").SerializeAsString());
  ProduceRaw(key, MakeSignaal("i2", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0599").SerializeAsString());

  // Three batches routed, none acknowledged: nothing committed.
  for (int batch = 0; batch < 3; ++batch) {
    auto committed = service->RunBatch();
    ASSERT_TRUE(committed.ok()) << committed.status();
    EXPECT_EQ(*committed, 0);
  }
  // The repeat of i1 (batch 2) found i1 in batch 1, which is in flight.
  EXPECT_THAT(holding->Produced(), ::testing::ElementsAre("i1", "i2"));
  ASSERT_TRUE(holding->AwaitHeld(2));

  // Batch 3 acknowledged first (batch 2 had nothing to send): neither may
  // commit before batch 1.
  holding->Release("i2");
  auto committed = service->CommitAcknowledged();
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(*committed, 0);
  EXPECT_TRUE(recording.commits.empty());

  holding->Release("i1");
  committed = service->CommitAcknowledged();
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(*committed, 3);
  ASSERT_EQ(recording.commits.size(), 3u);
  EXPECT_THAT(recording.commits[0].first, ::testing::ElementsAre("i1"));
  EXPECT_THAT(recording.commits[1].first, ::testing::IsEmpty());
  EXPECT_THAT(recording.commits[2].first, ::testing::ElementsAre("i2"));
  int64_t previous = -1;
  for (const auto& [ids, offsets] : recording.commits) {
    ASSERT_EQ(offsets.size(), 1u);
    EXPECT_EQ(offsets.begin()->second, previous < 0 ? offsets.begin()->second : previous + 1);
    previous = offsets.begin()->second;
  }
  EXPECT_EQ(Counter("inbeeld_routing_duplicates_total"), 1);
  EXPECT_EQ(Counter("inbeeld_routing_batches_overlapped_total"), 2);
  EXPECT_TRUE(service->Stop().ok());
  EXPECT_THAT(Destinations(ReadAll(std::string(kafka::kTopicAflevering), 2)),
              UnorderedElementsAre("i1->rmc-21", "i2->rmc-29"));
}

// --batches-in-flight=1 is the stop-and-wait loop: every batch is committed
// before RunBatch returns.
TEST_F(RoutingServiceTest, OneBatchInFlightCommitsEachBatchBeforeTheNext) {
  auto service = NewService(*store_, [](RoutingServiceOptions& o) {
    o.batches_in_flight = 1;
    o.max_batch_records = 1;
    o.max_batch_time = absl::Seconds(10);
  });
  ASSERT_NE(service, nullptr);
  const std::string key(64, 'k');
  ProduceRaw(key, MakeSignaal("w1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363").SerializeAsString());
  ProduceRaw(key, MakeSignaal("w2", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363").SerializeAsString());
  for (const char* id : {"w1", "w2"}) {
    auto committed = service->RunBatch();
    ASSERT_TRUE(committed.ok()) << committed.status();
    EXPECT_EQ(*committed, 1);
    auto routed = store_->IsRouted(id);
    ASSERT_TRUE(routed.ok());
    EXPECT_TRUE(*routed) << id;
  }
  EXPECT_EQ(Counter("inbeeld_routing_batches_overlapped_total"), 0);
  EXPECT_TRUE(service->Stop().ok());
}

// Lag dashboards and the kafka tests' wait-consumed read the group's
// committed offsets: once routing is idle they reach the end of the input,
// also when the last batch was committed by the drain of an idle poll.
TEST_F(RoutingServiceTest, IdleRoutingHasCommittedItsGroupOffsetsToTheEnd) {
  auto service = NewService(*store_);
  ASSERT_NE(service, nullptr);
  for (const char* id : {"g1", "g2", "g3"}) Produce(MakeSignaal(id, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363"));
  RunUntilCommitted(*service, 3);
  auto idle = service->RunBatch();  // nothing new
  ASSERT_TRUE(idle.ok()) << idle.status();

  auto monitor = WatchGroup(RoutingServiceOptions().group_id);
  ASSERT_NE(monitor, nullptr);
  GroupBacklog seen{.records = -1};
  for (const absl::Time deadline = absl::Now() + absl::Seconds(15); absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(300));
    seen = SumOf(*monitor);
    if (seen.end == 3 && seen.records == 0) break;
  }
  EXPECT_EQ(seen.end, 3);
  EXPECT_EQ(seen.records, 0) << "routing left records uncommitted in its consumer group";
  EXPECT_TRUE(service->Stop().ok());
}

// A group commit refused during a rebalance (asynchronous), modelled by a
// group that never got one: the same store under another group and no new
// input. On assignment routing tells the group what its store holds.
TEST_F(RoutingServiceTest, OnAssignmentTheGroupIsToldWhatTheStoreHoldsWithoutNewInput) {
  for (const char* id : {"h1", "h2", "h3"}) Produce(MakeSignaal(id, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0363"));
  {
    auto service = NewService(*store_);
    ASSERT_NE(service, nullptr);
    RunUntilCommitted(*service, 3);
    EXPECT_TRUE(service->Stop().ok());
  }
  const std::string lost_group = "routing-test-lost";
  auto service = NewService(*store_, [&](RoutingServiceOptions& o) { o.group_id = lost_group; });
  ASSERT_NE(service, nullptr);
  auto monitor = WatchGroup(lost_group);
  ASSERT_NE(monitor, nullptr);
  // The loop runs on (it joins the group, is assigned, finds nothing new).
  GroupBacklog seen{.records = -1};
  for (const absl::Time deadline = absl::Now() + absl::Seconds(15); absl::Now() < deadline;) {
    auto idle = service->RunBatch();
    ASSERT_TRUE(idle.ok()) << idle.status();
    EXPECT_EQ(*idle, 0) << "the store's offsets are where this instance starts";
    seen = SumOf(*monitor);
    if (seen.end == 3 && seen.records == 0) break;
  }
  EXPECT_EQ(seen.end, 3);
  EXPECT_EQ(seen.records, 0) << "the group's offsets stay behind what the store routed";
  EXPECT_TRUE(service->Stop().ok());
}

// The binary's process contract (TEAM.md): ready file, routing, SIGTERM → exit 0.
TEST_F(RoutingServiceTest, BinaryRoutesAndStopsCleanly) {
  const fs::path ready = dir_ / "ready.json";
  const std::string kafka_flag = "--kafka=" + cluster_->bootstrap_servers();
  const std::string ready_flag = "--ready-file=" + ready.string();
  const std::string state_flag = "--state-dir=" + (dir_ / "process-state").string();
  std::vector<std::string> args = {INBEELD_ROUTING_BINARY, kafka_flag, ready_flag, state_flag,
                                   "--metrics-listen=127.0.0.1:0", "--plaintext",
                                   "--log-level=warn", "--config-dir=" + kConfig};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reaper{pid};
  // Wait for readiness (bounded; the assertion is on content, not on time).
  for (int round = 0; round < kMaxRounds && !fs::exists(ready); ++round) {
    ::usleep(50 * 1000);
  }
  ASSERT_TRUE(fs::exists(ready));

  Produce(MakeSignaal("p1", v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM, "0501", "2022-12-31"));
  std::vector<kafka::InRecord> out = ReadAll(std::string(kafka::kTopicAflevering), 1);
  EXPECT_THAT(Destinations(out), UnorderedElementsAre("p1->rmc-29"));

  std::ifstream in(ready);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_NE(content.str().find("\"service\":\"routing\""), std::string::npos) << content.str();
  EXPECT_NE(content.str().find("\"metrics\":\"127.0.0.1:"), std::string::npos) << content.str();
  EXPECT_EQ(content.str().find("grpc"), std::string::npos) << content.str();

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  reaper.pid = 0;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace inbeeld::routing

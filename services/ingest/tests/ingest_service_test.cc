#include "inbeeld/ingest/ingest_service.h"

#include <algorithm>
#include <future>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/observability/metrics.h"

namespace inbeeld::ingest {
namespace {

// A producer that records what it was given and can play "Kafka is down".
class FakeProducer final : public kafka::Producer {
 public:
  absl::Status Produce(const kafka::OutRecord& record,
                       std::function<void(const kafka::DeliveryReport&)> cb) override {
    auto r = ProduceSync(record, absl::Seconds(1));
    kafka::DeliveryReport report;
    report.status = r.status();
    cb(report);
    return absl::OkStatus();
  }
  absl::StatusOr<kafka::DeliveryReport> ProduceSync(kafka::OutRecord record, absl::Duration) override {
    absl::MutexLock lock(&mu);
    if (down) return down_status;
    records.push_back(std::move(record));
    return kafka::DeliveryReport{absl::OkStatus(), records.back().topic, 0,
                                 static_cast<int64_t>(records.size() - 1)};
  }
  absl::Status Flush(absl::Duration) override { return absl::OkStatus(); }
  int OutstandingMessages() const override { return 0; }

  absl::Mutex mu;
  bool down = false;
  absl::Status down_status = absl::UnavailableError("kafka did not acknowledge the record in time");
  std::vector<kafka::OutRecord> records;
};

v1::InschrijvingsMutatie Uitschrijving(const std::string& id) {
  v1::InschrijvingsMutatie m;
  m.set_mutatie_id(id);
  m.set_bron("05KO");
  m.mutable_leerling()->set_bsn("111222333");
  m.set_geboortedatum("2012-05-01");
  m.set_brin("05KO");
  m.set_woongemeente("0363");
  m.set_soort(v1::MUTATIE_SOORT_UITSCHRIJVING);
  m.set_ingangsdatum("2024-03-01");
  m.set_onderwijssoort(v1::ONDERWIJSSOORT_VO);
  m.set_uitschrijfreden(v1::UITSCHRIJFREDEN_ANDERE_SCHOOL);
  return m;
}

class IngestServiceTest : public testing::Test {
 protected:
  IngestServiceTest()
      : pseudonymizer_(*identity::Pseudonymizer::Create("test-secret-0123456789")),
        clock_(absl::FromUnixSeconds(1700000000)),
        service_(producer_, pseudonymizer_, clock_, IngestOptions{}) {}

  FakeProducer producer_;
  identity::Pseudonymizer pseudonymizer_;
  util::ManualClock clock_;
  IngestService service_;
};

TEST_F(IngestServiceTest, ValidEventIsProducedKeyedByPseudonym) {
  v1::MeldAntwoord resp;
  grpc::ServerContext ctx;
  const v1::InschrijvingsMutatie req = Uitschrijving("m-1");
  auto st = service_.MeldInschrijving(&ctx, &req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(producer_.records.size(), 1u);
  EXPECT_EQ(producer_.records[0].topic, kafka::kTopicInschrijvingsmutaties);
  EXPECT_EQ(producer_.records[0].key, pseudonymizer_.Of(Uitschrijving("m-1").leerling()));
  EXPECT_EQ(resp.event_id().size(), 32u);
  EXPECT_FALSE(resp.duplicate());
}

// The Duplicates panel shows 0 per kind before the first retry, and rate()
// counts that first retry: every kind's counter exists from the start.
TEST_F(IngestServiceTest, DuplicateCounterOfEveryKindExistsFromTheStart) {
  std::set<std::string> kinds;
  for (const auto& family : observability::Registry().Collect()) {
    if (family.name != "inbeeld_ingest_events_duplicate_total") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "kind") kinds.insert(label.value);
      }
    }
  }
  for (const char* kind : {"verzuimmelding", "inschrijvingsmutatie", "adresmutatie", "vrijstelling"}) {
    EXPECT_TRUE(kinds.contains(kind)) << kind;
  }
}

TEST_F(IngestServiceTest, InvalidBsnIsInvalidArgumentWithBadRequestDetails) {
  auto m = Uitschrijving("m-2");
  m.mutable_leerling()->set_bsn("111222334");
  v1::Event e;
  *e.mutable_inschrijvingsmutatie() = m;
  v1::MeldAntwoord resp;
  grpc::Status st = service_.Accept(e, clock_.Now() + absl::Seconds(1), &resp);
  EXPECT_EQ(st.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("inschrijvingsmutatie.leerling.bsn"), std::string::npos);
  EXPECT_EQ(st.error_message().find("111222334"), std::string::npos);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(st.error_details()));
  google::rpc::BadRequest bad;
  ASSERT_EQ(details.details_size(), 1);
  ASSERT_TRUE(details.details(0).UnpackTo(&bad));
  ASSERT_GE(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "inschrijvingsmutatie.leerling.bsn");
  EXPECT_TRUE(producer_.records.empty());
}

TEST_F(IngestServiceTest, RetryReturnsFirstAnswerAndProducesNothingNew) {
  v1::Event e;
  *e.mutable_inschrijvingsmutatie() = Uitschrijving("m-3");
  v1::MeldAntwoord first, second;
  ASSERT_TRUE(service_.Accept(e, clock_.Now() + absl::Seconds(1), &first).ok());
  ASSERT_TRUE(service_.Accept(e, clock_.Now() + absl::Seconds(1), &second).ok());
  EXPECT_EQ(first.event_id(), second.event_id());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(producer_.records.size(), 1u);
  // Same id, other content: refused, not silently dropped.
  e.mutable_inschrijvingsmutatie()->set_ingangsdatum("2024-03-02");
  v1::MeldAntwoord third;
  EXPECT_EQ(service_.Accept(e, clock_.Now() + absl::Seconds(1), &third).error_code(), grpc::ALREADY_EXISTS);
}

TEST_F(IngestServiceTest, KafkaDownIsUnavailableAndTheRetryIsStoredLater) {
  v1::Event e;
  *e.mutable_inschrijvingsmutatie() = Uitschrijving("m-4");
  producer_.down = true;
  v1::MeldAntwoord resp;
  EXPECT_EQ(service_.Accept(e, clock_.Now() + absl::Seconds(1), &resp).error_code(), grpc::UNAVAILABLE);
  producer_.down = false;
  v1::MeldAntwoord retry;
  ASSERT_TRUE(service_.Accept(e, clock_.Now() + absl::Seconds(1), &retry).ok());
  EXPECT_FALSE(retry.duplicate());
  EXPECT_EQ(producer_.records.size(), 1u);
}

// A record purged unacknowledged from a producer that librdkafka declared fatal (and that was replaced) reports
// ABORTED. Kafka may not hold the event: the client is told to retry with the same id, as for any record Kafka
// did not acknowledge, and the retry is stored (it was answered INTERNAL, which a client does not retry).
TEST_F(IngestServiceTest, AnEventPurgedFromAReplacedProducerIsUnavailableAndTheRetryIsStored) {
  v1::Event e;
  *e.mutable_inschrijvingsmutatie() = Uitschrijving("m-5");
  producer_.down = true;
  producer_.down_status = absl::AbortedError("kafka delivery: Local: Purged in queue");
  v1::MeldAntwoord resp;
  const grpc::Status refused = service_.Accept(e, clock_.Now() + absl::Seconds(1), &resp);
  EXPECT_EQ(refused.error_code(), grpc::UNAVAILABLE) << refused.error_message();
  EXPECT_THAT(refused.error_message(), ::testing::HasSubstr("retry with the same id"));
  producer_.down = false;
  v1::MeldAntwoord retry;
  ASSERT_TRUE(service_.Accept(e, clock_.Now() + absl::Seconds(1), &retry).ok());
  EXPECT_FALSE(retry.duplicate());
  EXPECT_EQ(producer_.records.size(), 1u);
}

}  // namespace
}  // namespace inbeeld::ingest

namespace inbeeld::ingest {
namespace {

TEST_F(IngestServiceTest, UnaryViolationPathsAreRelativeToTheRequest) {
  auto m = Uitschrijving("m-5");
  m.mutable_leerling()->set_bsn("111222334");
  grpc::ServerContext ctx;
  v1::MeldAntwoord resp;
  grpc::Status st = service_.MeldInschrijving(&ctx, &m, &resp);
  ASSERT_EQ(st.error_code(), grpc::INVALID_ARGUMENT);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(st.error_details()));
  google::rpc::BadRequest bad;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad));
  EXPECT_EQ(bad.field_violations(0).field(), "leerling.bsn");
}

}  // namespace
}  // namespace inbeeld::ingest

namespace inbeeld::ingest {
namespace {

// Holds every delivery report until `gate` records are waiting, then
// acknowledges them all; the n-th record (1-based, `fail_nth`) fails. A batch
// that waits for each acknowledgement before producing the next item never
// opens the gate. The `refuse_nth` record is refused at once (never enqueued,
// no callback), as librdkafka refuses a record when its queue is full.
class GatedProducer final : public kafka::Producer {
 public:
  GatedProducer(size_t gate, size_t fail_nth, size_t refuse_nth = 0)
      : gate_(gate), fail_nth_(fail_nth), refuse_nth_(refuse_nth) {}

  // Acknowledges the records still held back (the gate not reached); from
  // here on every record is acknowledged at once.
  void ReleaseAll() {
    std::vector<std::pair<std::function<void(const kafka::DeliveryReport&)>, kafka::DeliveryReport>> ready;
    {
      absl::MutexLock lock(&mu_);
      ready.swap(waiting_);
      gate_ = 1;
    }
    for (auto& [fn, report] : ready) fn(report);
  }

  absl::Status Produce(const kafka::OutRecord& record, std::function<void(const kafka::DeliveryReport&)> cb) override {
    std::vector<std::pair<std::function<void(const kafka::DeliveryReport&)>, kafka::DeliveryReport>> ready;
    {
      absl::MutexLock lock(&mu_);
      if (++attempts_ == refuse_nth_) return absl::ResourceExhaustedError("kafka produce: queue full");
      kafka::DeliveryReport report{absl::OkStatus(), record.topic, 0, static_cast<int64_t>(produced_)};
      if (++produced_ == fail_nth_) report.status = absl::InternalError("broker refused the record");
      if (report.status.ok()) keys.push_back(record.key);
      waiting_.emplace_back(std::move(cb), report);
      if (waiting_.size() >= gate_) ready.swap(waiting_);
    }
    for (auto& [fn, report] : ready) fn(report);
    return absl::OkStatus();
  }
  absl::StatusOr<kafka::DeliveryReport> ProduceSync(kafka::OutRecord record, absl::Duration timeout) override {
    auto promise = std::make_shared<std::promise<kafka::DeliveryReport>>();
    auto future = promise->get_future();
    (void)Produce(record, [promise](const kafka::DeliveryReport& r) { promise->set_value(r); });
    if (future.wait_for(absl::ToChronoMilliseconds(timeout)) != std::future_status::ready) {
      return absl::UnavailableError("kafka did not acknowledge the record in time");
    }
    kafka::DeliveryReport r = future.get();
    if (!r.status.ok()) return r.status;
    return r;
  }
  absl::Status Flush(absl::Duration) override { return absl::OkStatus(); }
  int OutstandingMessages() const override { return 0; }

  std::vector<std::string> keys;  // of acknowledged records

 private:
  absl::Mutex mu_;
  size_t gate_ ABSL_GUARDED_BY(mu_);
  const size_t fail_nth_;
  const size_t refuse_nth_;
  size_t attempts_ = 0;
  size_t produced_ = 0;
  std::vector<std::pair<std::function<void(const kafka::DeliveryReport&)>, kafka::DeliveryReport>> waiting_;
};

v1::Event BatchEvent(const std::string& id) {
  v1::Event e;
  *e.mutable_inschrijvingsmutatie() = Uitschrijving(id);
  return e;
}

// MeldBatch (false: one event per message) and MeldBundles (true: the same
// events in bundles of two, after an empty one) through an in-process gRPC
// channel (no port). Every test runs both ways: the answer must be the same.
class MeldBatchTest : public testing::TestWithParam<bool> {
 protected:
  void Start(kafka::Producer& producer, absl::Duration produce_timeout, size_t max_batch_items = 10000) {
    IngestOptions options;
    options.produce_timeout = produce_timeout;
    options.max_batch_items = max_batch_items;
    service_ = std::make_unique<IngestService>(producer, pseudonymizer_, clock_, options);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = v1::MeldingService::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  v1::BatchAntwoord Send(const std::vector<v1::Event>& events, grpc::StatusCode expected = grpc::OK) {
    grpc::ClientContext ctx;
    v1::BatchAntwoord resp;
    grpc::Status st;
    if (!GetParam()) {
      auto writer = stub_->MeldBatch(&ctx, &resp);
      for (const auto& e : events) writer->Write(e);
      writer->WritesDone();
      st = writer->Finish();
    } else {
      auto writer = stub_->MeldBundles(&ctx, &resp);
      writer->Write(v1::EventBundle());
      for (size_t i = 0; i < events.size(); i += 2) {
        v1::EventBundle bundle;
        for (size_t j = i; j < std::min(i + 2, events.size()); ++j) *bundle.add_events() = events[j];
        writer->Write(bundle);
      }
      writer->WritesDone();
      st = writer->Finish();
    }
    EXPECT_EQ(st.error_code(), expected) << st.error_message();
    return resp;
  }

  identity::Pseudonymizer pseudonymizer_ = *identity::Pseudonymizer::Create("test-secret-0123456789");
  util::ManualClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<IngestService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::MeldingService::Stub> stub_;
};

TEST_P(MeldBatchTest, ItemsAreProducedBeforeTheFirstAcknowledgementIsAwaited) {
  // Kafka acknowledges only once all three records are waiting; one at a time
  // every item but the last would time out.
  GatedProducer producer(/*gate=*/3, /*fail_nth=*/0);
  Start(producer, absl::Milliseconds(300));
  v1::BatchAntwoord resp = Send({BatchEvent("b-1"), BatchEvent("b-2"), BatchEvent("b-3")});
  ASSERT_EQ(resp.items_size(), 3);
  EXPECT_EQ(resp.accepted(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(resp.items(i).index(), static_cast<uint32_t>(i));
    EXPECT_EQ(resp.items(i).code(), grpc::OK) << resp.items(i).message();
    EXPECT_EQ(resp.items(i).antwoord().event_id().size(), 32u);
  }
  EXPECT_EQ(producer.keys.size(), 3u);
}

TEST_P(MeldBatchTest, EachItemGetsItsOwnAnswerAndAFailedItemCanBeRetried) {
  GatedProducer producer(/*gate=*/1, /*fail_nth=*/2);
  Start(producer, absl::Seconds(5));
  v1::Event invalid = BatchEvent("b-13");
  invalid.mutable_inschrijvingsmutatie()->mutable_leerling()->set_bsn("111222334");
  v1::BatchAntwoord resp = Send({BatchEvent("b-11"), BatchEvent("b-12"), invalid, BatchEvent("b-14")});
  ASSERT_EQ(resp.items_size(), 4);
  EXPECT_EQ(resp.items(0).code(), grpc::OK);
  EXPECT_EQ(resp.items(1).code(), grpc::INTERNAL);  // the broker refused the 2nd record
  EXPECT_EQ(resp.items(1).violations_size(), 0);
  EXPECT_EQ(resp.items(2).code(), grpc::INVALID_ARGUMENT);
  ASSERT_EQ(resp.items(2).violations_size(), 1);
  EXPECT_EQ(resp.items(2).violations(0).field(), "inschrijvingsmutatie.leerling.bsn");
  EXPECT_EQ(resp.items(3).code(), grpc::OK);
  EXPECT_EQ(resp.accepted(), 2u);
  EXPECT_EQ(resp.rejected(), 2u);
  // The failed item's claim was released: the retry is produced, not a duplicate.
  v1::BatchAntwoord retry = Send({BatchEvent("b-12")});
  ASSERT_EQ(retry.items_size(), 1);
  EXPECT_EQ(retry.items(0).code(), grpc::OK);
  EXPECT_FALSE(retry.items(0).antwoord().duplicate());
  EXPECT_EQ(producer.keys.size(), 3u);
}

std::vector<v1::Event> BatchEvents(const std::string& prefix, int n) {
  std::vector<v1::Event> events;
  for (int i = 0; i < n; ++i) events.push_back(BatchEvent(absl::StrCat(prefix, i)));
  return events;
}

TEST_P(MeldBatchTest, ABatchLongerThanOneWindowOfAcknowledgementsIsAnsweredWhole) {
  // 2,500 items: three windows of at most 1,000 items in flight. Kafka
  // refuses the 1,000th at once (never enqueued): the window is full all the
  // same and the next item opens a new one.
  GatedProducer producer(/*gate=*/1, /*fail_nth=*/0, /*refuse_nth=*/1000);
  Start(producer, absl::Seconds(5));
  v1::BatchAntwoord resp = Send(BatchEvents("w-", 2500));
  ASSERT_EQ(resp.items_size(), 2500);
  EXPECT_EQ(resp.accepted(), 2499u);
  EXPECT_EQ(resp.rejected(), 1u);
  for (int i = 0; i < 2500; ++i) {
    EXPECT_EQ(resp.items(i).index(), static_cast<uint32_t>(i));
    if (i == 999) {
      EXPECT_EQ(resp.items(i).code(), grpc::RESOURCE_EXHAUSTED) << resp.items(i).message();
    } else {
      ASSERT_EQ(resp.items(i).code(), grpc::OK) << i << ": " << resp.items(i).message();
    }
  }
  EXPECT_EQ(producer.keys.size(), 2499u);
}

TEST_P(MeldBatchTest, AnAcknowledgementAfterTheAnswerReachesNothingFreed) {
  // Kafka holds the records past the produce timeout: the items are answered
  // UNAVAILABLE (the client retries with the same ids), and the late delivery
  // reports, after MeldBatch returned, still find the window they write to
  // (the sanitizer build sees a use after free otherwise).
  GatedProducer producer(/*gate=*/1000000, /*fail_nth=*/0);
  Start(producer, absl::Milliseconds(50));
  v1::BatchAntwoord resp = Send(BatchEvents("l-", 3));
  ASSERT_EQ(resp.items_size(), 3);
  EXPECT_EQ(resp.rejected(), 3u);
  for (const auto& item : resp.items()) EXPECT_EQ(item.code(), grpc::UNAVAILABLE) << item.message();
  producer.ReleaseAll();
  // Their claims were released: the retry is produced anew, not a duplicate.
  v1::BatchAntwoord retry = Send(BatchEvents("l-", 3));
  EXPECT_EQ(retry.accepted(), 3u);
  for (const auto& item : retry.items()) EXPECT_FALSE(item.antwoord().duplicate());
  EXPECT_EQ(producer.keys.size(), 6u);  // the late three and the retried three
}

TEST_P(MeldBatchTest, ARepeatInTheSameBatchIsADuplicateNotBusy) {
  // Acknowledged in pairs: the repeat must wait for the first copy's answer.
  GatedProducer producer(/*gate=*/2, /*fail_nth=*/0);
  Start(producer, absl::Seconds(1));
  v1::BatchAntwoord resp = Send({BatchEvent("b-21"), BatchEvent("b-22"), BatchEvent("b-21"), BatchEvent("b-23"),
                                 BatchEvent("b-24")});
  ASSERT_EQ(resp.items_size(), 5);
  EXPECT_EQ(resp.accepted(), 5u);
  EXPECT_TRUE(resp.items(2).antwoord().duplicate());
  EXPECT_EQ(resp.items(2).antwoord().event_id(), resp.items(0).antwoord().event_id());
  EXPECT_FALSE(resp.items(3).antwoord().duplicate());
  EXPECT_EQ(producer.keys.size(), 4u);
}

TEST_P(MeldBatchTest, AStreamOfMoreEventsThanTheLimitIsRefusedWhateverItsMessages) {
  // The limit counts events, not messages: 3 events in bundles of two, or
  // in three messages, are one too many for a limit of 2.
  GatedProducer producer(/*gate=*/1, /*fail_nth=*/0);
  Start(producer, absl::Seconds(1), /*max_batch_items=*/2);
  Send(BatchEvents("x-", 3), grpc::RESOURCE_EXHAUSTED);
  v1::BatchAntwoord within = Send(BatchEvents("y-", 2));
  EXPECT_EQ(within.accepted(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Streams, MeldBatchTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "MeldBundles" : "MeldBatch";
                         });

}  // namespace
}  // namespace inbeeld::ingest

namespace inbeeld::ingest {
namespace {

// A backlog monitor whose verdict the test sets.
class FakeBacklog final : public kafka::BacklogMonitor {
 public:
  absl::Status Admit(std::string_view topic, std::string_view) const override {
    absl::MutexLock lock(&mu);
    if (full) return absl::ResourceExhaustedError("holding back: " + std::string(topic));
    return absl::OkStatus();
  }
  void Produced(const kafka::DeliveryReport&, size_t bytes) override {
    absl::MutexLock lock(&mu);
    ++produced;
    last_bytes = bytes;
  }
  absl::Duration RetryAfter() const override { return absl::Milliseconds(1500); }
  std::map<kafka::TopicPartition, kafka::PartitionBacklog> Snapshot() const override { return {}; }
  mutable absl::Mutex mu;
  bool full = false;
  int produced = 0;
  size_t last_bytes = 0;
};

TEST(IngestHoldbackTest, AFullBacklogRefusesWithRetryInfoAndTheRetryWithTheSameIdIsStored) {
  FakeProducer producer;
  auto pseudonymizer = *identity::Pseudonymizer::Create("test-secret-0123456789");
  util::ManualClock clock(absl::FromUnixSeconds(1700000000));
  FakeBacklog backlog;
  IngestOptions options;
  options.backlog = &backlog;
  IngestService service(producer, pseudonymizer, clock, options);
  const v1::InschrijvingsMutatie req = Uitschrijving("hb-1");

  backlog.full = true;
  grpc::ServerContext ctx;
  v1::MeldAntwoord resp;
  grpc::Status st = service.MeldInschrijving(&ctx, &req, &resp);
  EXPECT_EQ(st.error_code(), grpc::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(producer.records.empty());  // not stored, so not acknowledged
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(st.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(details.details(0).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  EXPECT_EQ(retry.retry_delay().nanos(), 500000000);

  // The retry (same id) once the backlog shrank is produced, not a duplicate.
  backlog.full = false;
  grpc::ServerContext ctx2;
  v1::MeldAntwoord resp2;
  st = service.MeldInschrijving(&ctx2, &req, &resp2);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(resp2.duplicate());
  EXPECT_EQ(producer.records.size(), 1u);
  EXPECT_EQ(backlog.produced, 1);
  EXPECT_GT(backlog.last_bytes, producer.records[0].value.size());
}

}  // namespace
}  // namespace inbeeld::ingest

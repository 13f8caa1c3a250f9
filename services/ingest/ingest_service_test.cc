#include "ingest_service.h"

#include "absl/synchronization/mutex.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "inbeeld/kafka/topics.h"

namespace inbeeld::ingest {
namespace {

// A producer that records what it was given and can play "Kafka is down".
class FakeProducer final : public kafka::Producer {
 public:
  absl::Status Produce(kafka::OutRecord record,
                       std::function<void(const kafka::DeliveryReport&)> cb) override {
    auto r = ProduceSync(std::move(record), absl::Seconds(1));
    kafka::DeliveryReport report;
    report.status = r.status();
    cb(report);
    return absl::OkStatus();
  }
  absl::StatusOr<kafka::DeliveryReport> ProduceSync(kafka::OutRecord record, absl::Duration) override {
    absl::MutexLock lock(&mu);
    if (down) return absl::UnavailableError("kafka did not acknowledge the record in time");
    records.push_back(std::move(record));
    return kafka::DeliveryReport{absl::OkStatus(), records.back().topic, 0,
                                 static_cast<int64_t>(records.size() - 1)};
  }
  absl::Status Flush(absl::Duration) override { return absl::OkStatus(); }
  int OutstandingMessages() const override { return 0; }

  absl::Mutex mu;
  bool down = false;
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

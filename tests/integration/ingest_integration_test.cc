// `inbeeld run` as a real process (embedded Kafka + every service binary as a
// child), driven through the public gRPC contract with a C++ client; the
// event topics are then read back and checked record by record.
#include <signal.h>

#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "child_process.h"
#include "inbeeld/cli/demo_scenario.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/topics.h"
#include "integration_support.h"

namespace inbeeld::integration {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::ChildProcess;
using testing_util::TempDir;

std::string TopicOf(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding: return std::string(kafka::kTopicVerzuimmeldingen);
    case v1::Event::kInschrijvingsmutatie: return std::string(kafka::kTopicInschrijvingsmutaties);
    case v1::Event::kAdresmutatie: return std::string(kafka::kTopicAdresmutaties);
    case v1::Event::kVrijstelling: return std::string(kafka::kTopicVrijstellingen);
    default: return "";
  }
}

std::string Header(const kafka::InRecord& r, std::string_view name) {
  return kafka::FindHeader(r.headers, name).value_or("<missing>");
}

class IngestIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto pseudo = identity::Pseudonymizer::Create(std::string(identity::Pseudonymizer::kDevelopmentSecret));
    ASSERT_TRUE(pseudo.ok()) << pseudo.status();
    pseudonymizer_ = std::make_unique<identity::Pseudonymizer>(*pseudo);
    // Debug logs everywhere: the privacy test must see every line a service
    // could write.
    auto child = ChildProcess::Start(
        "inbeeld",
        {"run", "--demo=false", "--plaintext", "--partitions=3", "--ready-file=" + dir_.File("run.ready"),
         "--state-dir=" + dir_.File("state"), "--log-level=debug", "--service-log-level=debug"},
        dir_.File("run"));
    ASSERT_TRUE(child.ok()) << child.status();
    run_ = std::move(*child);
    auto ready = testing_util::WaitForReadyFile(dir_.File("run.ready"), kReadyTimeout);
    ASSERT_TRUE(ready.ok()) << ready.status() << "\nstdout:\n"
                            << run_->Stdout() << "\nstderr:\n"
                            << run_->Stderr();
    ready_ = *ready;
    ASSERT_TRUE(ready_.contains("kafka"));
    ASSERT_TRUE(ready_.contains("ingest_grpc")) << "inbeeld run did not start inbeeld-ingest";
    EXPECT_EQ(ready_["tls"], "plaintext");
    channel_ = LocalChannel(ready_["ingest_grpc"]);
    stub_ = v1::MeldingService::NewStub(channel_);
    started_ = absl::Now();
  }

  // Sends and expects OK; returns the answer.
  v1::MeldAntwoord SendOk(const v1::Event& e) {
    v1::MeldAntwoord resp;
    grpc::Status st = Send(*stub_, e, &resp);
    EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
    return resp;
  }

  std::vector<kafka::InRecord> Records(std::string_view topic) {
    auto records = ReadTopic(ready_["kafka"], topic);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? *records : std::vector<kafka::InRecord>{};
  }

  // The one record an accepted event must have produced, checked field by
  // field against the contract (key, CloudEvents headers, value).
  void ExpectRecordOf(const kafka::InRecord& r, const v1::Event& sent, const std::string& event_id) {
    SCOPED_TRACE("record " + r.topic + "/" + std::to_string(r.partition) + "@" + std::to_string(r.offset));
    const identity::EventRef ref = identity::RefOf(sent);
    ASSERT_NE(ref.leerling, nullptr);
    // Key: the pseudonym, never the identifier itself.
    EXPECT_EQ(r.key, pseudonymizer_->Of(*ref.leerling));
    EXPECT_THAT(r.key, Not(HasSubstr(ref.leerling->bsn())));
    EXPECT_TRUE(std::regex_match(r.key, std::regex("[0-9a-f]{64}"))) << r.key;
    // Co-partitioning contract: the default murmur2 partitioner by key.
    EXPECT_EQ(r.partition, kafka::PartitionForKey(r.key, 3));
    // CloudEvents binary mode.
    EXPECT_EQ(Header(r, kafka::kHeaderCeSpecversion), "1.0");
    EXPECT_EQ(Header(r, kafka::kHeaderCeId), event_id);
    EXPECT_TRUE(std::regex_match(Header(r, kafka::kHeaderCeId), std::regex("[0-9a-f]{32}")));
    EXPECT_EQ(Header(r, kafka::kHeaderCeSource), "/inbeeld/bron/" + ref.bron);
    EXPECT_EQ(Header(r, kafka::kHeaderCeType), events::CeType(sent));
    EXPECT_TRUE(absl::StartsWith(Header(r, kafka::kHeaderCeType), "nl.inbeeld.v1."));
    EXPECT_EQ(Header(r, kafka::kHeaderContentType), "application/protobuf");
    const std::string ce_time = Header(r, kafka::kHeaderCeTime);
    EXPECT_TRUE(std::regex_match(
        ce_time, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))")))
        << ce_time;
    absl::Time t;
    std::string err;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, ce_time, &t, &err)) << ce_time << ": " << err;
    // Causality, not timing: the ingest time lies within this test's run
    // (1 s slack for the millisecond truncation of ce_time).
    EXPECT_GE(t, started_ - absl::Seconds(1));
    EXPECT_LE(t, absl::Now() + absl::Seconds(1));
    // No personal data in any header.
    for (const auto& h : r.headers) EXPECT_THAT(h.value, Not(HasSubstr(ref.leerling->bsn()))) << h.key;
    // Value: the serialized event, exactly as sent.
    auto decoded = events::Decode(r);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*decoded, sent))
        << decoded->DebugString() << "\nvs sent\n"
        << sent.DebugString();
  }

  TempDir dir_;  // outlives run_ (members are destroyed in reverse order)
  std::unique_ptr<ChildProcess> run_;
  std::map<std::string, std::string> ready_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::MeldingService::Stub> stub_;
  std::unique_ptr<identity::Pseudonymizer> pseudonymizer_;
  absl::Time started_;
};

TEST_F(IngestIntegrationTest, EventsOfAllFourKindsLandOnTheirTopicsWithKeyAndCloudEventsHeaders) {
  const std::vector<v1::Event> sent = {ValidVerzuimMelding(101, "vm-1"), ValidInschrijving(102, "in-1"),
                                       ValidAdresMutatie(103, "am-1"), ValidVrijstelling(104, "vr-1"),
                                       ValidVerzuimMelding(105, "vm-2")};
  std::map<std::string, int> expected_count;
  for (const auto& e : sent) {
    v1::MeldAntwoord resp = SendOk(e);
    EXPECT_TRUE(std::regex_match(resp.event_id(), std::regex("[0-9a-f]{32}"))) << resp.event_id();
    EXPECT_FALSE(resp.duplicate());
    EXPECT_EQ(resp.event_id(), events::CeId(e));
    ++expected_count[TopicOf(e)];
  }
  for (std::string_view topic : kafka::kEventTopics) {
    SCOPED_TRACE(std::string(topic));
    std::vector<kafka::InRecord> records = Records(topic);
    ASSERT_EQ(records.size(), static_cast<size_t>(expected_count[std::string(topic)]));
    for (const auto& r : records) {
      const std::string id = Header(r, kafka::kHeaderCeId);
      const v1::Event* match = nullptr;
      for (const auto& e : sent) {
        if (events::CeId(e) == id) match = &e;
      }
      ASSERT_NE(match, nullptr) << "record with unknown ce_id " << id;
      EXPECT_EQ(TopicOf(*match), std::string(topic));
      ExpectRecordOf(r, *match, id);
    }
  }
}

TEST_F(IngestIntegrationTest, InvalidBsnIsInvalidArgumentWithBadRequestDetailsAndStoresNothing) {
  v1::Event bad = ValidInschrijving(111, "in-bad");
  MutableLeerling(&bad)->set_bsn(std::string(kInvalidBsn));
  v1::MeldAntwoord resp;
  grpc::Status st = Send(*stub_, bad, &resp);
  ASSERT_EQ(st.error_code(), grpc::INVALID_ARGUMENT) << st.error_message();
  EXPECT_THAT(st.error_message(), HasSubstr("leerling.bsn"));
  EXPECT_THAT(st.error_message(), Not(HasSubstr(std::string(kInvalidBsn))));
  // grpc-status-details-bin: google.rpc.Status with a BadRequest.
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(st.error_details())) << "no decodable grpc-status-details-bin";
  EXPECT_EQ(details.code(), grpc::INVALID_ARGUMENT);
  ASSERT_GE(details.details_size(), 1);
  google::rpc::BadRequest bad_request;
  bool found = false;
  for (const auto& any : details.details()) {
    if (any.UnpackTo(&bad_request)) found = true;
  }
  ASSERT_TRUE(found) << details.DebugString();
  std::vector<std::string> fields;
  for (const auto& v : bad_request.field_violations()) {
    fields.push_back(v.field());
    EXPECT_FALSE(v.description().empty());
    EXPECT_THAT(v.description(), Not(HasSubstr(std::string(kInvalidBsn))));
  }
  EXPECT_THAT(fields, Contains(HasSubstr("leerling.bsn")));
  EXPECT_TRUE(Records(kafka::kTopicInschrijvingsmutaties).empty());
}

TEST_F(IngestIntegrationTest, RetryWithSameBronAndIdIsDuplicateAndStoresNoSecondRecord) {
  const v1::Event e = ValidAdresMutatie(121, "am-retry");
  v1::MeldAntwoord first = SendOk(e);
  EXPECT_FALSE(first.duplicate());
  v1::MeldAntwoord second = SendOk(e);
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.event_id(), first.event_id());
  std::vector<kafka::InRecord> records = Records(kafka::kTopicAdresmutaties);
  ASSERT_EQ(records.size(), 1u);
  ExpectRecordOf(records[0], e, first.event_id());
}

TEST_F(IngestIntegrationTest, SameIdWithDifferentContentIsAlreadyExistsAndKeepsTheFirst) {
  const v1::Event original = ValidVrijstelling(131, "vr-conflict");
  v1::MeldAntwoord first = SendOk(original);
  v1::Event changed = original;
  changed.mutable_vrijstelling()->set_tot("2025-12-31");
  v1::MeldAntwoord resp;
  grpc::Status st = Send(*stub_, changed, &resp);
  EXPECT_EQ(st.error_code(), grpc::ALREADY_EXISTS) << st.error_message();
  std::vector<kafka::InRecord> records = Records(kafka::kTopicVrijstellingen);
  ASSERT_EQ(records.size(), 1u);
  ExpectRecordOf(records[0], original, first.event_id());
}

TEST_F(IngestIntegrationTest, BatchAnswersEachItemAndAnInvalidItemDoesNotStopTheOthers) {
  v1::Event invalid = ValidInschrijving(142, "in-batch-bad");
  MutableLeerling(&invalid)->set_bsn(std::string(kInvalidBsn));
  const std::vector<v1::Event> items = {ValidVerzuimMelding(141, "vm-batch"), invalid,
                                        ValidAdresMutatie(143, "am-batch"), ValidVerzuimMelding(141, "vm-batch")};
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  v1::BatchAntwoord answer;
  auto writer = stub_->MeldBatch(&ctx, &answer);
  for (const auto& e : items) ASSERT_TRUE(writer->Write(e));
  ASSERT_TRUE(writer->WritesDone());
  grpc::Status st = writer->Finish();
  ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  ASSERT_EQ(answer.items_size(), 4) << answer.DebugString();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(answer.items(i).index(), static_cast<uint32_t>(i));
  // 0: accepted.
  EXPECT_EQ(answer.items(0).code(), grpc::OK);
  EXPECT_EQ(answer.items(0).antwoord().event_id(), events::CeId(items[0]));
  EXPECT_FALSE(answer.items(0).antwoord().duplicate());
  // 1: invalid, with its field violations.
  EXPECT_EQ(answer.items(1).code(), grpc::INVALID_ARGUMENT);
  EXPECT_THAT(answer.items(1).message(), HasSubstr("leerling.bsn"));
  EXPECT_THAT(answer.items(1).message(), Not(HasSubstr(std::string(kInvalidBsn))));
  std::vector<std::string> fields;
  for (const auto& v : answer.items(1).violations()) fields.push_back(v.field());
  EXPECT_THAT(fields, Contains(HasSubstr("leerling.bsn")));
  // 2: accepted after the invalid one.
  EXPECT_EQ(answer.items(2).code(), grpc::OK);
  EXPECT_EQ(answer.items(2).antwoord().event_id(), events::CeId(items[2]));
  // 3: the retry of item 0 inside the same batch.
  EXPECT_EQ(answer.items(3).code(), grpc::OK);
  EXPECT_TRUE(answer.items(3).antwoord().duplicate());
  EXPECT_EQ(answer.items(3).antwoord().event_id(), answer.items(0).antwoord().event_id());
  EXPECT_EQ(answer.accepted(), 3u);
  EXPECT_EQ(answer.rejected(), 1u);

  std::vector<kafka::InRecord> verzuim = Records(kafka::kTopicVerzuimmeldingen);
  ASSERT_EQ(verzuim.size(), 1u);
  ExpectRecordOf(verzuim[0], items[0], answer.items(0).antwoord().event_id());
  std::vector<kafka::InRecord> adres = Records(kafka::kTopicAdresmutaties);
  ASSERT_EQ(adres.size(), 1u);
  ExpectRecordOf(adres[0], items[2], answer.items(2).antwoord().event_id());
  EXPECT_TRUE(Records(kafka::kTopicInschrijvingsmutaties).empty());
  EXPECT_TRUE(Records(kafka::kTopicVrijstellingen).empty());
}

TEST_F(IngestIntegrationTest, HealthCheckIsServing) {
  auto server = HealthCheck(channel_, "");
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(*server, 1) << "grpc.health.v1 SERVING is 1";
  // A probe that names the service gets an answer too.
  auto named = HealthCheck(channel_, "inbeeld.v1.MeldingService");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(*named, 1);
}

TEST_F(IngestIntegrationTest, ReflectionListsMeldingService) {
  auto services = ReflectionListServices(channel_);
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services, Contains("inbeeld.v1.MeldingService"));
  EXPECT_THAT(*services, Contains("grpc.health.v1.Health"));
}

// The ingest metrics contract (TEAM.md): each outcome counted by kind, and no
// personal data in any sample of the endpoint.
TEST_F(IngestIntegrationTest, MetricsCountEachOutcomeByKindWithoutPersonalData) {
  ASSERT_TRUE(ready_.contains("ingest_metrics"));
  const v1::Event verzuim = ValidVerzuimMelding(161, "m-vm");
  SendOk(verzuim);
  SendOk(ValidVerzuimMelding(162, "m-vm-2"));
  SendOk(ValidAdresMutatie(163, "m-am"));
  EXPECT_TRUE(SendOk(verzuim).duplicate());
  v1::Event invalid = ValidVrijstelling(164, "m-bad");
  MutableLeerling(&invalid)->set_bsn(std::string(kInvalidBsn));
  v1::MeldAntwoord resp;
  EXPECT_EQ(Send(*stub_, invalid, &resp).error_code(), grpc::INVALID_ARGUMENT);

  auto text = HttpGet(ready_["ingest_metrics"], "/metrics");
  ASSERT_TRUE(text.ok()) << text.status();
  const std::string accepted = "inbeeld_ingest_events_accepted_total";
  EXPECT_EQ(MetricValue(*text, accepted, {{"kind", "verzuimmelding"}}), 2.0) << *text;
  EXPECT_EQ(MetricValue(*text, accepted, {{"kind", "adresmutatie"}}), 1.0);
  EXPECT_EQ(MetricValue(*text, "inbeeld_ingest_events_duplicate_total", {{"kind", "verzuimmelding"}}), 1.0);
  EXPECT_EQ(MetricValue(*text, "inbeeld_ingest_events_rejected_total",
                        {{"kind", "vrijstelling"}, {"reason", "invalid"}}),
            1.0);
  // Common gRPC server metrics, by method and code.
  EXPECT_EQ(MetricValue(*text, "inbeeld_grpc_server_handled_total",
                        {{"service", "inbeeld.v1.MeldingService"}, {"method", "MeldVerzuim"}, {"code", "OK"}}),
            3.0);
  EXPECT_EQ(MetricValue(*text, "inbeeld_grpc_server_handled_total",
                        {{"service", "inbeeld.v1.MeldingService"}, {"method", "MeldVrijstelling"},
                         {"code", "INVALID_ARGUMENT"}}),
            1.0);
  for (int seed = 161; seed <= 164; ++seed) EXPECT_THAT(*text, Not(HasSubstr(cli::SyntheticBsn(seed))));
  EXPECT_THAT(*text, Not(HasSubstr(std::string(kInvalidBsn))));
}

// Privacy (TEAM.md): a BSN never appears in a log line or a Kafka key. Every
// path that sees a BSN runs here (accept, reject, duplicate, conflict, batch),
// with debug logging, then `inbeeld run` is stopped so every log is complete.
TEST_F(IngestIntegrationTest, NoBsnInAnyLogLineOrKafkaKey) {
  std::vector<std::string> bsns;
  std::vector<v1::Event> valid = {ValidVerzuimMelding(151, "p-vm"), ValidInschrijving(152, "p-in"),
                                  ValidAdresMutatie(153, "p-am"), ValidVrijstelling(154, "p-vr")};
  for (int seed = 151; seed <= 155; ++seed) bsns.push_back(cli::SyntheticBsn(seed));
  bsns.push_back(std::string(kInvalidBsn));
  for (const auto& e : valid) SendOk(e);
  for (const auto& e : valid) EXPECT_TRUE(SendOk(e).duplicate());
  v1::Event conflict = valid[1];
  conflict.mutable_inschrijvingsmutatie()->set_ingangsdatum("2024-09-01");
  v1::MeldAntwoord resp;
  EXPECT_EQ(Send(*stub_, conflict, &resp).error_code(), grpc::ALREADY_EXISTS);
  v1::Event invalid = ValidVrijstelling(155, "p-bad");
  MutableLeerling(&invalid)->set_bsn(std::string(kInvalidBsn));
  EXPECT_EQ(Send(*stub_, invalid, &resp).error_code(), grpc::INVALID_ARGUMENT);
  v1::Event invalid_date = ValidVerzuimMelding(155, "p-bad-date");
  invalid_date.mutable_verzuimmelding()->set_begindatum("2025-13-45");
  EXPECT_EQ(Send(*stub_, invalid_date, &resp).error_code(), grpc::INVALID_ARGUMENT);
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
    v1::BatchAntwoord answer;
    auto writer = stub_->MeldBatch(&ctx, &answer);
    writer->Write(ValidVerzuimMelding(155, "p-batch"));
    writer->Write(invalid);
    writer->Write(valid[0]);
    writer->WritesDone();
    EXPECT_TRUE(writer->Finish().ok());
    for (const auto& item : answer.items()) {
      for (const auto& bsn : bsns) EXPECT_THAT(item.message(), Not(HasSubstr(bsn)));
    }
  }

  std::set<std::string> keys;
  size_t record_count = 0;
  for (std::string_view topic : kafka::kEventTopics) {
    for (const auto& r : Records(topic)) {
      ++record_count;
      keys.insert(r.key);
      for (const auto& bsn : bsns) {
        EXPECT_THAT(r.key, Not(HasSubstr(bsn))) << r.topic;
        for (const auto& h : r.headers) EXPECT_THAT(h.value, Not(HasSubstr(bsn))) << r.topic << " " << h.key;
      }
    }
  }
  EXPECT_EQ(record_count, 5u);  // the four valid events and the valid batch item
  EXPECT_EQ(keys.size(), 5u);   // five leerlingen, five pseudonyms

  // Stop everything (children flush and log their shutdown) before reading logs.
  run_->Signal(SIGTERM);
  std::optional<int> code = run_->Wait(kExitTimeout);
  ASSERT_TRUE(code.has_value()) << "inbeeld run did not stop after SIGTERM";
  EXPECT_EQ(*code, 0) << run_->Stderr();
  const std::string logs = run_->Stdout() + run_->Stderr();
  EXPECT_FALSE(logs.empty());
  // The children's logs are in there too (they inherit stdout/stderr), so
  // the check below covers inbeeld-ingest's own lines.
  EXPECT_THAT(logs, HasSubstr(R"("service":"ingest")"));
  for (const auto& bsn : bsns) {
    EXPECT_THAT(logs, Not(HasSubstr(bsn))) << "a BSN in the logs of inbeeld run or its services";
  }
}

}  // namespace
}  // namespace inbeeld::integration

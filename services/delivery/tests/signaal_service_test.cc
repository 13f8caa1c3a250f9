// SignaalService over mutual TLS on port 0 against the embedded Kafka cluster.
#include "inbeeld/delivery/signaal_service.h"

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "inbeeld/delivery/aflevering_reader.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/topics.h"
#include "prometheus/registry.h"
#include "inbeeld/cli/subscribe_command.h"
#include "test_certs.h"

namespace inbeeld::delivery {
namespace {

using testing::Certs;
using testing::kOrgA;
using testing::kOrgB;

// Safety net only (a hang fails instead of blocking CI); no assertion
// depends on it.
constexpr auto kRpcDeadline = std::chrono::seconds(60);

class SignaalServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = kafka::EmbeddedCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
    ASSERT_TRUE(cluster_->CreateTopics({{std::string(kafka::kTopicAflevering), 1, 1, false}}).ok());
    kafka::ClientOptions options;
    options.bootstrap_servers = cluster_->bootstrap_servers();
    auto producer = kafka::Producer::Create(options);
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = producer->release();
    // Interleaved: every subscriber must skip the other's records.
    for (const auto& [organisatie, id] : std::vector<std::pair<std::string, std::string>>{
             {kOrgA, "a1"}, {kOrgB, "b1"}, {kOrgA, "a2"}, {kOrgB, "b2"}, {kOrgA, "a3"}}) {
      Produce(organisatie, id);
    }
  }
  static void TearDownTestSuite() {
    delete producer_;
    delete cluster_;
  }

  static void Produce(const std::string& organisatie, const std::string& id) {
    v1::Signaal signaal;
    signaal.set_signaal_id(id);
    signaal.set_soort(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
    signaal.set_organisatie(organisatie);
    signaal.set_pseudoniem("p-" + id);
    kafka::OutRecord record;
    record.topic = std::string(kafka::kTopicAflevering);
    record.key = organisatie;
    record.value = signaal.SerializeAsString();
    record.headers.push_back({std::string(kafka::kHeaderIngestTime), "2024-03-01T10:00:00Z"});
    auto report = producer_->ProduceSync(record, absl::Seconds(30));
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_TRUE(report->status.ok()) << report->status;
  }

  void SetUp() override {
    auto identiteit = OrganisatieIdentiteit::FromCsv(testing::OrganisatieTabelCsv());
    ASSERT_TRUE(identiteit.ok()) << identiteit.status();
    SignaalServiceOptions options;
    options.kafka.bootstrap_servers = cluster_->bootstrap_servers();
    options.poll_interval = absl::Milliseconds(50);
    service_ = std::make_unique<SignaalServiceImpl>(
        options, std::make_shared<const OrganisatieIdentiteit>(*std::move(identiteit)), metrics_);
    grpc_util::TlsOptions tls;
    tls.cert_file = Certs().server_cert;
    tls.key_file = Certs().server_key;
    tls.ca_file = Certs().ca;
    auto server = grpc_util::Server::Start("127.0.0.1:0", tls, {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (service_) service_->Stop();
    if (server_) server_->Shutdown(absl::Seconds(1));
    server_.reset();
    service_.reset();
  }

  std::string Address() const { return absl::StrCat("127.0.0.1:", server_->port()); }

  std::unique_ptr<v1::SignaalService::Stub> StubAs(const std::string& id) {
    grpc_util::TlsOptions tls;
    tls.cert_file = Certs().Cert(id);
    tls.key_file = Certs().Key(id);
    tls.ca_file = Certs().ca;
    auto credentials = grpc_util::ChannelCredentials(tls);
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    return v1::SignaalService::NewStub(grpc::CreateChannel(Address(), *credentials));
  }

  struct Result {
    std::vector<v1::SignaalBericht> berichten;
    grpc::Status status;
  };
  // Reads `n` messages (then cancels), or until the stream ends.
  static Result Read(v1::SignaalService::Stub& stub, const std::string& organisatie,
                     const std::string& cursor, size_t n) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
    v1::SubscribeRequest request;
    request.set_organisatie(organisatie);
    request.set_cursor(cursor);
    auto reader = stub.Subscribe(&context, request);
    Result result;
    v1::SignaalBericht bericht;
    while (result.berichten.size() < n && reader->Read(&bericht)) {
      result.berichten.push_back(bericht);
    }
    if (result.berichten.size() == n) context.TryCancel();
    result.status = reader->Finish();
    return result;
  }

  static std::vector<std::string> Ids(const Result& result) {
    std::vector<std::string> ids;
    for (const auto& b : result.berichten) ids.push_back(b.signaal().signaal_id());
    return ids;
  }

  // A client that stops reading is cut off (see the definition).
  static void ExpectSlowSubscriberCutOff(bool on_shared_reader);

  static kafka::EmbeddedCluster* cluster_;
  static kafka::Producer* producer_;
  prometheus::Registry registry_;
  DeliveryMetrics metrics_{registry_};
  std::unique_ptr<SignaalServiceImpl> service_;
  std::unique_ptr<grpc_util::Server> server_;
};

kafka::EmbeddedCluster* SignaalServiceTest::cluster_ = nullptr;
kafka::Producer* SignaalServiceTest::producer_ = nullptr;

// The topic holds one partition, so a3 is the last record: having it means
// every earlier record was considered, and none of B's came through.
TEST_F(SignaalServiceTest, EachOrganisationGetsExactlyItsOwnSignals) {
  auto a = StubAs(kOrgA);
  Result as_a = Read(*a, kOrgA, "", 3);
  EXPECT_EQ(Ids(as_a), (std::vector<std::string>{"a1", "a2", "a3"}));
  for (const auto& b : as_a.berichten) {
    EXPECT_EQ(b.signaal().organisatie(), kOrgA);
    EXPECT_FALSE(b.cursor().empty());
  }
  auto b = StubAs(kOrgB);
  Result as_b = Read(*b, kOrgB, "", 2);
  EXPECT_EQ(Ids(as_b), (std::vector<std::string>{"b1", "b2"}));
  // Empty organisatie in the request means "the one in my certificate".
  Result implicit = Read(*b, "", "", 2);
  EXPECT_EQ(Ids(implicit), (std::vector<std::string>{"b1", "b2"}));
}

TEST_F(SignaalServiceTest, ResumingFromACursorLosesNothing) {
  auto a = StubAs(kOrgA);
  Result first = Read(*a, kOrgA, "", 1);
  ASSERT_EQ(Ids(first), (std::vector<std::string>{"a1"}));
  Result rest = Read(*a, kOrgA, first.berichten[0].cursor(), 2);
  EXPECT_EQ(Ids(rest), (std::vector<std::string>{"a2", "a3"}));
  // Resuming after the last one waits for new signals and gets exactly those.
  Produce(kOrgB, "b-late");
  Produce(kOrgA, "a-late");
  Result late = Read(*a, kOrgA, rest.berichten[1].cursor(), 1);
  EXPECT_EQ(Ids(late), (std::vector<std::string>{"a-late"}));
}

TEST_F(SignaalServiceTest, AnotherOrganisationsStreamIsPermissionDenied) {
  auto a = StubAs(kOrgA);
  Result result = Read(*a, kOrgB, "", 1);
  EXPECT_TRUE(result.berichten.empty());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SignaalServiceTest, UnknownOinIsUnauthenticated) {
  auto unknown = StubAs("unknown");
  Result result = Read(*unknown, kOrgA, "", 1);
  EXPECT_TRUE(result.berichten.empty());
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(SignaalServiceTest, ClientWithoutCertificateIsRefused) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = testing::ReadTextFile(Certs().ca);  // trusts the server, no client cert
  auto stub = v1::SignaalService::NewStub(
      grpc::CreateChannel(Address(), grpc::SslCredentials(options)));
  Result result = Read(*stub, kOrgA, "", 1);
  EXPECT_TRUE(result.berichten.empty());
  EXPECT_FALSE(result.status.ok());
  // The handshake itself fails: the call never reaches the service.
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SignaalServiceTest, BadCursorIsInvalidArgument) {
  auto a = StubAs(kOrgA);
  Result result = Read(*a, kOrgA, "not-a-cursor", 1);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SignaalServiceTest, ACursorPastTheEndIsOutOfRangeWithTheEarliestCursor) {
  auto a = StubAs(kOrgA);
  Result result = Read(*a, kOrgA, "0:999999", 1);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(result.status.error_message().find("earliest valid cursor is \"0:0\""), std::string::npos)
      << result.status.error_message();
}

TEST_F(SignaalServiceTest, StopEndsOpenStreamsWithUnavailable) {
  auto a = StubAs(kOrgA);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  v1::SubscribeRequest request;
  request.set_organisatie(kOrgA);
  auto reader = a->Subscribe(&context, request);
  v1::SignaalBericht bericht;
  ASSERT_TRUE(reader->Read(&bericht));  // the stream is open
  service_->Stop();
  while (reader->Read(&bericht)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SignaalServiceTest, CountsSentSignalsPerOrganisation) {
  auto a = StubAs(kOrgA);
  // The handler counts a message after writing it and before writing the
  // next: having the third proves the first two were counted.
  Result as_a = Read(*a, kOrgA, "", 3);
  ASSERT_EQ(as_a.berichten.size(), 3u);
  const prometheus::Counter& sent = metrics_.Sent(kOrgA);
  EXPECT_GE(sent.Value(), 2.0);
}

TEST_F(SignaalServiceTest, PlaintextModeTakesTheOrganisationFromTheRequest) {
  auto identiteit = OrganisatieIdentiteit::FromCsv(testing::OrganisatieTabelCsv());
  ASSERT_TRUE(identiteit.ok());
  SignaalServiceOptions options;
  options.kafka.bootstrap_servers = cluster_->bootstrap_servers();
  options.plaintext = true;
  SignaalServiceImpl service(options,
                             std::make_shared<const OrganisatieIdentiteit>(*std::move(identiteit)),
                             metrics_);
  grpc_util::TlsOptions tls;
  tls.plaintext = true;
  auto server = grpc_util::Server::Start("127.0.0.1:0", tls, {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SignaalService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->port()), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(Ids(Read(*stub, kOrgB, "", 2)), (std::vector<std::string>{"b1", "b2"}));
  EXPECT_EQ(Read(*stub, "", "", 1).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  service.Stop();
  (*server)->Shutdown(absl::Seconds(1));
}

// Routing repeats a record after a crash (same signaal_id, later offset): a
// stream from any cursor carries the signal once, on the shared reader, on a
// catch-up reader, and from a cursor between the signal and its repeat.
TEST_F(SignaalServiceTest, ARepeatedRecordIsDeliveredOncePerCursorPosition) {
  const std::string topic = "herhaling.aflevering";
  ASSERT_TRUE(cluster_->CreateTopics({{topic, 1, 1, false}}).ok());
  auto identiteit = OrganisatieIdentiteit::FromCsv(testing::OrganisatieTabelCsv());
  ASSERT_TRUE(identiteit.ok());
  SignaalServiceOptions options;
  options.kafka.bootstrap_servers = cluster_->bootstrap_servers();
  options.topic = topic;
  options.plaintext = true;
  options.poll_interval = absl::Milliseconds(50);
  prometheus::Registry registry;
  DeliveryMetrics metrics(registry);
  SignaalServiceImpl service(options,
                             std::make_shared<const OrganisatieIdentiteit>(*std::move(identiteit)),
                             metrics);
  EXPECT_EQ(metrics.RepeatsDropped().Value(), 0.0);  // registered at 0
  grpc_util::TlsOptions tls;
  tls.plaintext = true;
  auto server = grpc_util::Server::Start("127.0.0.1:0", tls, {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SignaalService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->port()), grpc::InsecureChannelCredentials()));

  // A live subscriber on the shared reader while the records arrive.
  grpc::ClientContext live_context;
  live_context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  v1::SubscribeRequest request;
  request.set_organisatie(kOrgA);
  auto live = stub->Subscribe(&live_context, request);
  for (int i = 0; i < 200 && service.attached_subscriptions() < 1; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(service.attached_subscriptions(), 1);
  auto produce = [&](const std::string& id) {
    v1::Signaal signaal;
    signaal.set_signaal_id(id);
    signaal.set_organisatie(kOrgA);
    auto report = producer_->ProduceSync({topic, 0, kOrgA, signaal.SerializeAsString(), {}},
                                         absl::Seconds(30));
    ASSERT_TRUE(report.ok() && report->status.ok());
  };
  produce("r1");
  produce("r2");
  produce("r1");  // the repeat
  produce("r3");
  std::vector<std::string> live_ids;
  v1::SignaalBericht bericht;
  std::vector<std::string> cursors;
  while (live_ids.size() < 3 && live->Read(&bericht)) {
    live_ids.push_back(bericht.signaal().signaal_id());
    cursors.push_back(bericht.cursor());
  }
  live_context.TryCancel();
  live->Finish();
  EXPECT_EQ(live_ids, (std::vector<std::string>{"r1", "r2", "r3"}));

  // From the beginning (a catch-up reader) and from just after r1 (the
  // repeat lies after that cursor, r1 before it).
  EXPECT_EQ(Ids(Read(*stub, kOrgA, "", 3)), (std::vector<std::string>{"r1", "r2", "r3"}));
  ASSERT_EQ(cursors.size(), 3u);
  EXPECT_EQ(Ids(Read(*stub, kOrgA, cursors[0], 2)), (std::vector<std::string>{"r2", "r3"}));
  EXPECT_EQ(metrics.RepeatsDropped().Value(), 3.0);
  service.Stop();
  (*server)->Shutdown(absl::Seconds(1));
}

// An endless backlog for one organisation, from the cursor's offset on
// (the embedded cluster keeps only a few MB per partition, less than gRPC and
// the kernel buffer for a client that stops reading).
class EndlessReader final : public AfleveringReader {
 public:
  // Records up to `end` (exclusive), then nothing; none while `gate` is
  // false.
  EndlessReader(int64_t next, int64_t end, std::shared_ptr<std::atomic<bool>> gate = nullptr)
      : next_(next), end_(end), gate_(std::move(gate)) {
    signaal_.set_organisatie(kOrgA);
    signaal_.mutable_melding()->set_school_actie(std::string(32 * 1024, 'x'));
  }
  absl::StatusOr<std::optional<kafka::InRecord>> Poll(absl::Duration timeout) override {
    if (next_ >= end_ || (gate_ != nullptr && !gate_->load())) {
      absl::SleepFor(timeout);
      return std::optional<kafka::InRecord>();
    }
    signaal_.set_signaal_id(absl::StrCat("s", next_));
    kafka::InRecord record;
    record.partition = 0;
    record.offset = next_++;
    record.key = kOrgA;
    record.value = signaal_.SerializeAsString();
    return std::optional<kafka::InRecord>(std::move(record));
  }
  int32_t partition_count() const override { return 1; }

 private:
  int64_t next_;
  const int64_t end_;
  std::shared_ptr<std::atomic<bool>> gate_;
  v1::Signaal signaal_;
};

// A client that stops reading: gRPC flow control blocks the writes, the
// subscriber's buffer fills and the stream ends with RESOURCE_EXHAUSTED
// instead of the server holding everything in memory.
// `on_shared_reader` false: the shared tail stands far ahead and the
// subscriber from the beginning catches up on its own endless reader. True:
// the tail starts at 0, the subscriber is attached to it, and when its buffer
// fills it moves to a catch-up reader from the record it could not take
// (which must lose nothing) before it is cut off.
void SignaalServiceTest::ExpectSlowSubscriberCutOff(bool on_shared_reader) {
  auto identiteit = OrganisatieIdentiteit::FromCsv(testing::OrganisatieTabelCsv());
  ASSERT_TRUE(identiteit.ok());
  SignaalServiceOptions options;
  static constexpr int64_t kFar = int64_t{1} << 40;
  auto opened = std::make_shared<std::atomic<int>>(0);
  auto go = std::make_shared<std::atomic<bool>>(false);  // the tail's first record
  options.readers.open = [opened, go, on_shared_reader](const Cursor& start, int64_t lookback)
      -> absl::StatusOr<std::unique_ptr<AfleveringReader>> {
    // The tail is the first reader; it stops after a while so that it does
    // not spin for nobody.
    const bool tail = opened->fetch_add(1) == 0;
    auto it = start.next_offsets.find(0);
    return std::make_unique<EndlessReader>(
        it == start.next_offsets.end() ? 0 : std::max<int64_t>(0, it->second - lookback),
        tail && on_shared_reader ? 2000 : kFar, tail ? go : nullptr);
  };
  options.readers.end = [on_shared_reader]() -> absl::StatusOr<Cursor> {
    return Cursor{{{0, on_shared_reader ? 0 : kFar}}};
  };
  options.repeat_window = 2;
  options.buffer_capacity = 4;
  options.slow_subscriber_timeout = absl::Milliseconds(100);
  options.stuck_subscriber_grace = absl::Hours(1);  // this client reads again
  prometheus::Registry registry;
  DeliveryMetrics metrics(registry);
  SignaalServiceImpl service(options,
                             std::make_shared<const OrganisatieIdentiteit>(*std::move(identiteit)),
                             metrics);
  grpc_util::TlsOptions tls;
  tls.cert_file = Certs().server_cert;
  tls.key_file = Certs().server_key;
  tls.ca_file = Certs().ca;
  auto server = grpc_util::Server::Start("127.0.0.1:0", tls, {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  grpc_util::TlsOptions client_tls;
  client_tls.cert_file = Certs().Cert(kOrgA);
  client_tls.key_file = Certs().Key(kOrgA);
  client_tls.ca_file = Certs().ca;
  auto stub = v1::SignaalService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->port()), *grpc_util::ChannelCredentials(client_tls)));

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  v1::SubscribeRequest request;
  request.set_organisatie(kOrgA);
  auto reader = stub->Subscribe(&context, request);
  if (on_shared_reader) {
    for (int i = 0; i < 1000 && service.attached_subscriptions() < 1; ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_EQ(service.attached_subscriptions(), 1);
  }
  go->store(true);
  v1::SignaalBericht bericht;
  ASSERT_TRUE(reader->Read(&bericht));
  // Stop reading until the server has given up on us.
  prometheus::Counter& cut_off = metrics.CutOff(kOrgA);
  while (cut_off.Value() < 1) absl::SleepFor(absl::Milliseconds(1));
  int received = 1;
  v1::SignaalBericht last = bericht;
  while (reader->Read(&bericht)) {
    ++received;
    last = bericht;
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_EQ(last.signaal().signaal_id(), absl::StrCat("s", received - 1));
  // The last cursor received resumes right after the last message received.
  Result resumed = Read(*stub, kOrgA, last.cursor(), 1);
  ASSERT_EQ(resumed.berichten.size(), 1u) << resumed.status.error_message();
  EXPECT_EQ(resumed.berichten[0].signaal().signaal_id(), absl::StrCat("s", received));
  if (on_shared_reader) {
    EXPECT_GE(opened->load(), 2);  // the tail, then a catch-up reader
  }
  service.Stop();
  (*server)->Shutdown(absl::Seconds(1));
}

TEST_F(SignaalServiceTest, SlowSubscriberIsCutOffWithResourceExhausted) {
  ExpectSlowSubscriberCutOff(/*on_shared_reader=*/false);
}

TEST_F(SignaalServiceTest, SlowSubscriberOnTheSharedReaderIsCutOffWithoutLoss) {
  ExpectSlowSubscriberCutOff(/*on_shared_reader=*/true);
}

// `inbeeld subscribe` against the same server.
TEST_F(SignaalServiceTest, SubscribeCommandPrintsJsonLines) {
  std::ostringstream out, err;
  int rc = cli::SubscribeMain(
      {"subscribe", "--address=" + Address(), std::string("--organisatie=") + kOrgA,
       "--tls-cert=" + Certs().Cert(kOrgA), "--tls-key=" + Certs().Key(kOrgA),
       "--tls-ca=" + Certs().ca, "--max=2", "--timeout=60s"},
      out, err);
  EXPECT_EQ(rc, 0) << err.str();
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u) << out.str();
  EXPECT_NE(lines[0].find("\"signaalId\":\"a1\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"cursor\":\"0:1\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"signaalId\":\"a2\""), std::string::npos) << lines[1];
}

TEST_F(SignaalServiceTest, SubscribeCommandResumesFromCursor) {
  std::ostringstream out, err;
  int rc = cli::SubscribeMain(
      {"--address=" + Address(), std::string("--organisatie=") + kOrgA, "--cursor=0:1",
       "--tls-cert=" + Certs().Cert(kOrgA), "--tls-key=" + Certs().Key(kOrgA),
       "--tls-ca=" + Certs().ca, "--max=1", "--timeout=60s"},
      out, err);
  EXPECT_EQ(rc, 0) << err.str();
  EXPECT_NE(out.str().find("\"signaalId\":\"a2\""), std::string::npos) << out.str();
}

TEST_F(SignaalServiceTest, SubscribeCommandFailsClearlyWhenRefused) {
  std::ostringstream out, err;
  int rc = cli::SubscribeMain(
      {"--address=" + Address(), std::string("--organisatie=") + kOrgB,
       "--tls-cert=" + Certs().Cert(kOrgA), "--tls-key=" + Certs().Key(kOrgA),
       "--tls-ca=" + Certs().ca, "--max=1", "--timeout=60s"},
      out, err);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.str().find("PERMISSION_DENIED"), std::string::npos) << err.str();
  EXPECT_TRUE(out.str().empty());
}

// Signals deleted by retention (the mock keeps ~5 MiB per partition) before a
// subscriber read them: its cursor is OUT_OF_RANGE, never silently moved on.
TEST(AfleveringReaderRetentionTest, ACursorBeforeTheOldestKeptSignalIsOutOfRange) {
  auto cluster = kafka::EmbeddedCluster::Start();
  ASSERT_TRUE(cluster.ok());
  const std::string topic(kafka::kTopicAflevering);
  ASSERT_TRUE((*cluster)->CreateTopics({{topic, 1, 1, false}}).ok());
  kafka::ClientOptions options;
  options.bootstrap_servers = (*cluster)->bootstrap_servers();
  auto producer = kafka::Producer::Create(options);
  ASSERT_TRUE(producer.ok());
  const std::string big(100 * 1024, 'x');
  for (int i = 0; i < 70; ++i) {
    ASSERT_TRUE((*producer)->Produce({topic, 0, "org", big, {}}, [](const kafka::DeliveryReport&) {}).ok());
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());
  Cursor cursor;
  cursor.next_offsets[0] = 3;
  auto reader = AfleveringReader::Open(options, topic, cursor, absl::Seconds(10));
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kOutOfRange) << reader.status();
  EXPECT_NE(reader.status().message().find("earliest valid cursor is \"0:"), std::string::npos) << reader.status();
  // Without a cursor the subscriber gets what is kept.
  auto fresh = AfleveringReader::Open(options, topic, Cursor{}, absl::Seconds(10));
  EXPECT_TRUE(fresh.ok()) << fresh.status();
}

}  // namespace
}  // namespace inbeeld::delivery

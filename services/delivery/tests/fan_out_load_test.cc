// 500 concurrent subscribers of 25 organisations over real gRPC (port 0)
// against the embedded Kafka cluster: all served by the one shared reader,
// each gets exactly its organisation's signals, once, also the 50 that
// join late from the beginning (catch-up readers handing over to the tail)
// and also when routing repeats records.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "inbeeld/delivery/signaal_service.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "prometheus/registry.h"
#include "test_certs.h"

namespace inbeeld::delivery {
namespace {

constexpr int kOrganisaties = 25;
constexpr int kEarly = 450;  // subscribed before the first signal
constexpr int kLate = 50;    // subscribe from the beginning halfway
constexpr int kSignalsPerOrganisatie = 20;
constexpr int kPartitions = 3;
const char kTopic[] = "fanout.aflevering";

std::string Org(int i) { return absl::StrCat("gem-", i); }

struct Received {
  std::vector<std::string> ids;
  grpc::Status status;
};

TEST(FanOutLoadTest, FiveHundredSubscribersEachGetExactlyTheirOrganisationsSignalsOnce) {
  auto cluster = kafka::EmbeddedCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopics({{kTopic, kPartitions, 1, false}}).ok());
  kafka::ClientOptions kafka_options;
  kafka_options.bootstrap_servers = (*cluster)->bootstrap_servers();
  auto producer = kafka::Producer::Create(kafka_options);
  ASSERT_TRUE(producer.ok()) << producer.status();

  auto identiteit = OrganisatieIdentiteit::FromCsv(testing::OrganisatieTabelCsv());
  ASSERT_TRUE(identiteit.ok());
  prometheus::Registry registry;
  DeliveryMetrics metrics(registry);
  SignaalServiceOptions options;
  options.kafka = kafka_options;
  options.topic = kTopic;
  options.plaintext = true;  // organisations from the request: 25 of them
  options.poll_interval = absl::Milliseconds(50);
  SignaalServiceImpl service(options,
                             std::make_shared<const OrganisatieIdentiteit>(*std::move(identiteit)),
                             metrics);
  grpc_util::TlsOptions tls;
  tls.plaintext = true;
  auto server = grpc_util::Server::Start("127.0.0.1:0", tls, {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 8; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // separate connections
    channels.push_back(grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                                                 grpc::InsecureChannelCredentials(), args));
  }

  // Each subscriber reads until it has its organisation's count (then
  // cancels); a foreign or repeated signal takes the place of a missing one
  // and shows in the comparison below.
  std::vector<Received> received(kEarly + kLate);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(kEarly + kLate);
  std::vector<std::thread> clients;
  auto subscribe = [&](int n) {
    contexts[n] = std::make_unique<grpc::ClientContext>();
    contexts[n]->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    clients.emplace_back([&, n] {
      auto stub = v1::SignaalService::NewStub(channels[n % channels.size()]);
      v1::SubscribeRequest request;
      request.set_organisatie(Org(n % kOrganisaties));
      auto reader = stub->Subscribe(contexts[n].get(), request);
      v1::SignaalBericht bericht;
      while (received[n].ids.size() < kSignalsPerOrganisatie && reader->Read(&bericht)) {
        received[n].ids.push_back(bericht.signaal().organisatie() + "/" + bericht.signaal().signaal_id());
      }
      if (received[n].ids.size() == kSignalsPerOrganisatie) contexts[n]->TryCancel();
      received[n].status = reader->Finish();
    });
  };
  auto produce = [&](int organisatie, int signaal) {
    v1::Signaal s;
    s.set_signaal_id(absl::StrCat("s", signaal));
    s.set_organisatie(Org(organisatie));
    kafka::OutRecord record{kTopic, -1, Org(organisatie), s.SerializeAsString(), {}};
    ASSERT_TRUE((*producer)->Produce(record, [](const kafka::DeliveryReport&) {}).ok());
  };

  for (int n = 0; n < kEarly; ++n) subscribe(n);
  for (int i = 0; i < 30'000 && service.attached_subscriptions() < kEarly; ++i) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  ASSERT_EQ(service.attached_subscriptions(), kEarly) << "early subscribers not on the shared reader";
  for (int s = 0; s < kSignalsPerOrganisatie / 2; ++s) {
    for (int o = 0; o < kOrganisaties; ++o) produce(o, s);
  }
  // Routing's repeats after a crash: the first five signals of every
  // organisation again.
  for (int s = 0; s < 5; ++s) {
    for (int o = 0; o < kOrganisaties; ++o) produce(o, s);
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());
  for (int n = kEarly; n < kEarly + kLate; ++n) subscribe(n);
  for (int s = kSignalsPerOrganisatie / 2; s < kSignalsPerOrganisatie; ++s) {
    for (int o = 0; o < kOrganisaties; ++o) produce(o, s);
  }
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());
  for (std::thread& t : clients) t.join();

  int exact = 0;
  for (int n = 0; n < kEarly + kLate; ++n) {
    std::vector<std::string> want;
    for (int s = 0; s < kSignalsPerOrganisatie; ++s) {
      want.push_back(absl::StrCat(Org(n % kOrganisaties), "/s", s));
    }
    std::vector<std::string> got = received[n].ids;
    EXPECT_EQ(received[n].status.error_code(), grpc::StatusCode::CANCELLED)
        << "subscriber " << n << ": " << received[n].status.error_message();
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << "subscriber " << n;
    if (got == want) ++exact;
  }
  EXPECT_EQ(exact, kEarly + kLate);
  // Every early subscriber was given the 125 repeats' share and withheld it.
  EXPECT_GE(metrics.RepeatsDropped().Value(), kEarly * 5.0);
  service.Stop();
  (*server)->Shutdown(absl::Seconds(2));
}

}  // namespace
}  // namespace inbeeld::delivery

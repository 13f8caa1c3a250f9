// Orderly shutdown under load (process contract, TEAM.md): on SIGTERM a service
// stops accepting, drains, flushes and commits, and exits 0 within 10 s.
//  - ingest: every event that got an OK answer is on its Kafka topic.
//  - signaling: after SIGTERM and a restart on the same --state-dir, every
//    acknowledged event has been processed (a signal for every jongere).
// The Kafka cluster is the embedded mock (what `inbeeld run` hosts), owned by
// the test so that only the processes under test consume and produce.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "child_process.h"
#include "inbeeld/cli/demo_scenario.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "inbeeld/v1/signaal.pb.h"
#include "ops_events.h"

namespace inbeeld::ops_test {
namespace {

using testing_util::ChildProcess;
using testing_util::TempDir;

constexpr char kSecret[] = "ops-shutdown-secret-0123456789abcdef";
constexpr int kPartitions = 3;
// A bound from the process contract, not a performance expectation.
constexpr absl::Duration kExitBound = absl::Seconds(10);

struct Acked {
  int seed;
  std::string event_id;
};

// Sends verzuimmeldingen for seeds [first, first + count) from `threads`
// concurrent clients; `on_progress(acked_so_far)` runs after every answer.
class LoadGenerator {
 public:
  LoadGenerator(const std::string& address, int first, int count, std::string prefix)
      : stub_(v1::MeldingService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))),
        first_(first),
        count_(count),
        prefix_(std::move(prefix)),
        today_(util::TodayUtc()) {}

  void Run(int threads) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([this] {
        for (int i = next_++; i < count_; i = next_++) {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
          v1::MeldAntwoord resp;
          const int seed = first_ + i;
          grpc::Status st = stub_->MeldVerzuim(&ctx, TestMelding(seed, today_, prefix_), &resp);
          std::lock_guard<std::mutex> lock(mu_);
          ++answered_;
          if (st.ok()) {
            acked_.push_back({seed, resp.event_id()});
          } else {
            ++failed_;
          }
        }
      });
    }
    for (auto& w : workers) w.join();
  }

  int acked_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(acked_.size());
  }
  std::vector<Acked> acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  int failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }

 private:
  std::unique_ptr<v1::MeldingService::Stub> stub_;
  const int first_;
  const int count_;
  const std::string prefix_;
  const absl::CivilDay today_;
  std::atomic<int> next_{0};
  std::mutex mu_;
  std::vector<Acked> acked_;
  int answered_ = 0;
  int failed_ = 0;
};

class ShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = kafka::EmbeddedCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    ASSERT_TRUE(cluster_->CreateTopics(kafka::InBeeldTopics(kPartitions, 1)).ok());
    kopts_.bootstrap_servers = cluster_->bootstrap_servers();
    kopts_.client_id = "ops-shutdown-test";
  }

  std::unique_ptr<ChildProcess> StartService(const std::string& svc, const std::string& ready,
                                             std::vector<std::string> extra, std::map<std::string, std::string>* ready_fields) {
    std::filesystem::remove(ready);
    std::vector<std::string> args = {"--kafka=" + cluster_->bootstrap_servers(), "--grpc-listen=127.0.0.1:0",
                                     "--metrics-listen=127.0.0.1:0",        "--plaintext",
                                     "--ready-file=" + ready,              std::string("--pseudonym-secret=") + kSecret};
    args.insert(args.end(), extra.begin(), extra.end());
    auto child = ChildProcess::Start("inbeeld-" + svc, args, absl::StrCat(tmp_.File(svc), "-", ++starts_));
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return nullptr;
    auto fields = testing_util::WaitForReadyFile(ready, absl::Seconds(60));
    EXPECT_TRUE(fields.ok()) << fields.status() << "\n" << (*child)->Stderr();
    if (fields.ok()) *ready_fields = *fields;
    return *std::move(child);
  }

  // Every record of `topic`, all partitions, from the beginning.
  std::vector<kafka::InRecord> ReadTopic(std::string_view topic) {
    std::vector<kafka::InRecord> out;
    for (int32_t p = 0; p < kPartitions; ++p) {
      absl::Status s = kafka::ReadPartitionToEnd(
          kopts_, {std::string(topic), p}, 0, [&](const kafka::InRecord& r) { out.push_back(r); },
          absl::Seconds(10));
      EXPECT_TRUE(s.ok()) << s;
    }
    return out;
  }

  TempDir tmp_;
  std::unique_ptr<kafka::EmbeddedCluster> cluster_;
  kafka::ClientOptions kopts_;
  int starts_ = 0;
};

TEST_F(ShutdownTest, IngestKeepsEveryAcknowledgedEventAndExitsZero) {
  std::map<std::string, std::string> ready;
  auto ingest = StartService("ingest", tmp_.File("ingest.ready"), {}, &ready);
  ASSERT_NE(ingest, nullptr);
  ASSERT_TRUE(ready.contains("grpc"));

  constexpr int kEvents = 300;
  LoadGenerator load(ready["grpc"], 10000, kEvents, "ops-ingest");
  std::thread sender([&] { load.Run(8); });
  // SIGTERM mid-stream: once a third has been acknowledged.
  while (load.acked_count() < kEvents / 3 && load.failed() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ingest->Signal(SIGTERM);
  auto code = ingest->Wait(kExitBound);
  sender.join();
  ASSERT_TRUE(code.has_value()) << "inbeeld-ingest did not exit within 10 s\n" << ingest->Stderr();
  EXPECT_EQ(*code, 0) << ingest->Stderr();

  const std::vector<Acked> acked = load.acked();
  std::cout << "ingest: " << acked.size() << " of " << kEvents << " events acknowledged, " << load.failed()
            << " refused after SIGTERM" << std::endl;
  ASSERT_GE(static_cast<int>(acked.size()), kEvents / 3);
  // The stream really was cut: not everything could be acknowledged.
  EXPECT_LT(static_cast<int>(acked.size()), kEvents) << "SIGTERM came after the stream";

  std::set<std::string> stored;
  for (const auto& r : ReadTopic(kafka::kTopicVerzuimmeldingen)) {
    if (auto id = kafka::FindHeader(r.headers, kafka::kHeaderCeId)) stored.insert(*id);
  }
  int missing = 0;
  for (const Acked& a : acked) {
    if (!stored.contains(a.event_id)) ++missing;
  }
  EXPECT_EQ(missing, 0) << missing << " of " << acked.size() << " acknowledged events are not on "
                        << kafka::kTopicVerzuimmeldingen;
}

TEST_F(ShutdownTest, SignalingRestartProcessesEveryAcknowledgedEvent) {
  std::map<std::string, std::string> ingest_ready, signaling_ready;
  auto ingest = StartService("ingest", tmp_.File("ingest.ready"), {}, &ingest_ready);
  ASSERT_NE(ingest, nullptr);
  const std::vector<std::string> signaling_args = {"--state-dir=" + tmp_.File("signaling-state"),
                                                   "--group=ops-shutdown-signaling"};
  auto signaling = StartService("signaling", tmp_.File("signaling.ready"), signaling_args, &signaling_ready);
  ASSERT_NE(signaling, nullptr);

  constexpr int kEvents = 200;
  LoadGenerator load(ingest_ready["grpc"], 20000, kEvents, "ops-signaling");
  std::thread sender([&] { load.Run(4); });
  while (load.acked_count() < kEvents / 3 && load.failed() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  signaling->Signal(SIGTERM);
  auto code = signaling->Wait(kExitBound);
  sender.join();
  ASSERT_TRUE(code.has_value()) << "inbeeld-signaling did not exit within 10 s\n" << signaling->Stderr();
  EXPECT_EQ(*code, 0) << signaling->Stderr();
  ASSERT_EQ(load.failed(), 0) << "ingest stayed up: every event must be acknowledged";

  std::cout << "signaling: SIGTERM after " << kEvents / 3 << "+ acknowledged events; restarting" << std::endl;
  auto restarted = StartService("signaling", tmp_.File("signaling.ready"), signaling_args, &signaling_ready);
  ASSERT_NE(restarted, nullptr);

  auto pseudo = identity::Pseudonymizer::Create(kSecret);
  ASSERT_TRUE(pseudo.ok());
  std::set<std::string> expected;
  for (const Acked& a : load.acked()) {
    v1::Leerling l;
    l.set_bsn(cli::SyntheticBsn(a.seed));
    expected.insert(pseudo->Of(l));
  }
  ASSERT_EQ(static_cast<int>(expected.size()), kEvents);

  // Wait (bounded) until a VERZUIMMELDING signal exists for every jongere.
  std::set<std::string> seen;
  const absl::Time give_up = absl::Now() + absl::Seconds(90);
  while (absl::Now() < give_up) {
    seen.clear();
    for (const auto& r : ReadTopic(kafka::kTopicSignalen)) {
      v1::Signaal s;
      if (s.ParseFromString(r.value) && s.soort() == v1::SIGNAAL_SOORT_VERZUIMMELDING) seen.insert(s.pseudoniem());
    }
    if (std::includes(seen.begin(), seen.end(), expected.begin(), expected.end())) break;
    if (!restarted->Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  int missing = 0;
  for (const auto& p : expected) {
    if (!seen.contains(p)) ++missing;
  }
  EXPECT_EQ(missing, 0) << missing << " of " << expected.size()
                        << " acknowledged jongeren have no VERZUIMMELDING signal after the restart\n"
                        << restarted->Stderr();

  restarted->Signal(SIGTERM);
  auto code2 = restarted->Wait(kExitBound);
  ASSERT_TRUE(code2.has_value()) << "restarted inbeeld-signaling did not exit within 10 s";
  EXPECT_EQ(*code2, 0) << restarted->Stderr();
  ingest->Signal(SIGTERM);
  auto code3 = ingest->Wait(kExitBound);
  ASSERT_TRUE(code3.has_value());
  EXPECT_EQ(*code3, 0) << ingest->Stderr();
}

}  // namespace
}  // namespace inbeeld::ops_test

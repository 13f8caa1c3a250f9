#include <memory>
#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "src/internal.h"

namespace inbeeld::kafka {
namespace {

class KafkaTest : public testing::Test {
 protected:
  void SetUp() override {
    auto c = EmbeddedCluster::Start(1);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    ASSERT_TRUE(cluster_->CreateTopics({{"t", 4, 1, false}}).ok());
  }
  ClientOptions Options() {
    ClientOptions o;
    o.bootstrap_servers = cluster_->bootstrap_servers();
    return o;
  }
  std::unique_ptr<EmbeddedCluster> cluster_;
};

TEST_F(KafkaTest, ProducedRecordsAreConsumedWithKeysHeadersAndPartitions) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok()) << producer.status();
  std::map<std::string, int32_t> partition_of;
  for (int i = 0; i < 20; ++i) {
    std::string key = "key-" + std::to_string(i);
    auto report = (*producer)->ProduceSync({"t", kAnyPartition, key, "v" + std::to_string(i), {{"ce_id", key}}},
                                           absl::Seconds(10));
    ASSERT_TRUE(report.ok()) << report.status();
    partition_of[key] = report->partition;
    // Our partitioner mapping is the producer's (murmur2_random).
    EXPECT_EQ(report->partition, PartitionForKey(key, 4)) << key;
  }
  ConsumerOptions co;
  co.bootstrap_servers = cluster_->bootstrap_servers();
  co.group_id = "g";
  co.topics = {"t"};
  std::set<TopicPartition> assigned;
  co.on_assign = [&](const std::vector<TopicPartition>& parts) { assigned.insert(parts.begin(), parts.end()); };
  auto consumer = Consumer::Create(co);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  std::set<std::string> seen;
  for (int i = 0; i < 300 && seen.size() < 20; ++i) {
    auto r = (*consumer)->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(r.ok()) << r.status();
    if (!r->has_value()) continue;
    const InRecord& rec = **r;
    EXPECT_EQ(FindHeader(rec.headers, "ce_id"), rec.key);
    EXPECT_EQ(rec.partition, partition_of[rec.key]);
    seen.insert(rec.key);
  }
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(assigned.size(), 4u);
  (*consumer)->Close();
}

TEST_F(KafkaTest, ConsumerStartsAtTheOffsetTheServiceStored) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE((*producer)->ProduceSync({"t", 0, "k", std::to_string(i), {}}, absl::Seconds(10)).ok());
  }
  ConsumerOptions co;
  co.bootstrap_servers = cluster_->bootstrap_servers();
  co.group_id = "g2";
  co.topics = {"t"};
  co.start_offset = [](const TopicPartition& tp) -> std::optional<int64_t> {
    if (tp.partition == 0) return 3;
    return std::nullopt;
  };
  auto consumer = Consumer::Create(co);
  ASSERT_TRUE(consumer.ok());
  std::vector<std::string> values;
  for (int i = 0; i < 200 && values.size() < 2; ++i) {
    auto r = (*consumer)->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(r.ok());
    if (r->has_value()) values.push_back((*r)->value);
  }
  EXPECT_EQ(values, (std::vector<std::string>{"3", "4"}));
}

TEST(KafkaUnavailableTest, ProduceSyncFailsWithinTheDeadline) {
  ClientOptions o;
  o.bootstrap_servers = "127.0.0.1:1";  // nothing listens there
  auto producer = Producer::Create(o);
  ASSERT_TRUE(producer.ok());
  auto report = (*producer)->ProduceSync({"t", kAnyPartition, "k", "v", {}}, absl::Milliseconds(500));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
}

// Found by LeakSanitizer (build-asan): destroying a producer with records
// Kafka never acknowledged leaked their delivery callbacks, which never ran.
TEST(KafkaUnavailableTest, DestroyedProducerFailsEveryUnacknowledgedRecord) {
  ClientOptions o;
  o.bootstrap_servers = "127.0.0.1:1";  // nothing listens there
  auto producer = Producer::Create(o);
  ASSERT_TRUE(producer.ok());
  auto reports = std::make_shared<std::vector<absl::Status>>();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*producer)
                    ->Produce({"t", kAnyPartition, "k", "v", {}},
                              [reports](const DeliveryReport& r) { reports->push_back(r.status); })
                    .ok());
  }
  producer->reset();
  ASSERT_EQ(reports->size(), 3u);
  for (const absl::Status& s : *reports) EXPECT_FALSE(s.ok());
}

TEST(KafkaStatsTest, ParsesQueueRttAndLag) {
  const std::string json = R"({"msg_cnt": 7,
    "brokers": {"127.0.0.1:9092/1": {"nodeid": 1, "rtt": {"avg": 2500}},
                "GroupCoordinator": {"nodeid": -1, "rtt": {"avg": 0}}},
    "topics": {"t": {"partitions": {"0": {"consumer_lag": 12}, "-1": {"consumer_lag": -1}}}}})";
  KafkaStats s = internal::ParseStats(json);
  EXPECT_EQ(s.producer_queue_messages, 7);
  ASSERT_EQ(s.broker_rtt_seconds.size(), 1u);
  EXPECT_DOUBLE_EQ(s.broker_rtt_seconds.begin()->second, 0.0025);
  ASSERT_EQ(s.consumer_lag.size(), 1u);
  EXPECT_EQ((s.consumer_lag[{"t", 0}]), 12);
}

TEST(TopicsTest, InBeeldTopicsAreCoPartitionedAndHaveDlqs) {
  auto specs = InBeeldTopics(6, 1);
  std::set<std::string> names;
  for (const auto& s : specs) {
    names.insert(s.name);
    EXPECT_EQ(s.partitions, 6);
  }
  for (auto t : kEventTopics) {
    EXPECT_TRUE(names.contains(std::string(t)));
    EXPECT_TRUE(names.contains(DlqTopic(t)));
  }
  EXPECT_TRUE(names.contains(std::string(kTopicSignalen)));
}

}  // namespace
}  // namespace inbeeld::kafka

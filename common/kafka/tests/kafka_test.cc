#include <algorithm>
#include <atomic>
#include <climits>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/exactly_once_flags.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/resume.h"
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

// Every header comes back, in order, byte for byte: repeated names, an empty
// value, a value with a NUL byte (CloudEvents headers, DLQ headers).
TEST_F(KafkaTest, HeadersArriveInOrderWithTheirBytes) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok()) << producer.status();
  const Headers headers = {{"ce_id", "a-1"},
                           {"empty", ""},
                           {"binary", std::string("x\0y\xff", 4)},
                           {"ce_id", "a-2"},
                           {"inbeeld_dlq_error", std::string(300, 'e')}};
  auto report = (*producer)->ProduceSync({"t", 2, "k", "v", headers}, absl::Seconds(10));
  ASSERT_TRUE(report.ok()) << report.status();
  ConsumerOptions co;
  co.bootstrap_servers = cluster_->bootstrap_servers();
  co.group_id = "headers";
  co.topics = {"t"};
  auto consumer = Consumer::Create(co);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  std::optional<InRecord> got;
  for (int i = 0; i < 300 && !got; ++i) {
    auto r = (*consumer)->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->has_value()) got = **r;
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->headers, headers);
  EXPECT_EQ(FindHeader(got->headers, "ce_id"), "a-1");
  (*consumer)->Close();
}

// On Apache Kafka, Debian's librdkafka 2.0.2 idempotent producer turned fatal after a leader was killed ("out of
// order sequence number": tests/kafka failover pipeline) and refused every record after: the service had to be
// restarted. The producer now replaces itself; a record in the fatal producer fails with ABORTED (produce again).
TEST_F(KafkaTest, AProducerThatTurnedFatalReplacesItselfAndProducesAgain) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok()) << producer.status();
  ASSERT_TRUE((*producer)->ProduceSync({"t", kAnyPartition, "k", "before", {}}, absl::Seconds(10)).ok());
  ASSERT_TRUE((*producer)->SimulateFatalError("test: sequence desynchronisation").ok());
  for (int i = 0; i < 5; ++i) {
    auto report = (*producer)->ProduceSync({"t", kAnyPartition, "k", "after", {}}, absl::Seconds(10));
    ASSERT_TRUE(report.ok()) << "record " << i << " after the fatal error: " << report.status();
  }
  EXPECT_TRUE((*producer)->Flush(absl::Seconds(5)).ok());
}

// Records go to librdkafka through a topic handle cached per producer (the C++ wrapper looked each topic up by name
// under the client's write lock). Threads that produce at once to two topics, with and without headers: every
// record gets its own delivery report, with its topic, and arrives on that topic with its headers.
TEST_F(KafkaTest, ThreadsProducingToTwoTopicsGetEachRecordsReportAndTopic) {
  ASSERT_TRUE(cluster_->CreateTopics({{"u", 2, 1, false}}).ok());
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok()) << producer.status();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  std::atomic<int> delivered{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string topic = i % 2 == 0 ? "t" : "u";
        const std::string id = absl::StrCat(t, "-", i);
        Headers headers;
        if (i % 3 != 0) headers = {{"ce_id", id}, {"ce_source", "/inbeeld/test"}};
        OutRecord record{topic, kAnyPartition, id, "v", headers};
        while (true) {
          absl::Status s = (*producer)->Produce(record, [&, topic](const DeliveryReport& r) {
            if (!r.status.ok() || r.topic != topic || r.offset < 0) ++wrong;
            ++delivered;
          });
          if (s.ok()) break;
          ASSERT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;  // queue full only
          absl::SleepFor(absl::Milliseconds(1));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE((*producer)->Flush(absl::Seconds(20)).ok());
  EXPECT_EQ(delivered.load(), kThreads * kPerThread);
  EXPECT_EQ(wrong.load(), 0);

  ConsumerOptions co;
  co.bootstrap_servers = cluster_->bootstrap_servers();
  co.group_id = "two-topics";
  co.topics = {"u"};
  auto consumer = Consumer::Create(co);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  int on_u = 0;
  for (int i = 0; i < 600 && on_u < kThreads * kPerThread / 2; ++i) {
    auto r = (*consumer)->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(r.ok()) << r.status();
    if (!r->has_value()) continue;
    const InRecord& rec = **r;
    ++on_u;
    const int i_of = std::stoi(rec.key.substr(rec.key.find('-') + 1));
    EXPECT_EQ(i_of % 2, 1) << rec.key;  // only the odd records went to u
    if (i_of % 3 == 0) {
      EXPECT_TRUE(rec.headers.empty()) << rec.key;
    } else {
      EXPECT_EQ(rec.headers, (Headers{{"ce_id", rec.key}, {"ce_source", "/inbeeld/test"}})) << rec.key;
    }
  }
  EXPECT_EQ(on_u, kThreads * kPerThread / 2);
  (*consumer)->Close();
}

// A topic name librdkafka refuses (longer than 512 bytes) is the caller's error, at once: no callback runs for the
// record (it was never enqueued), and the producer goes on with valid topics.
TEST_F(KafkaTest, ARefusedTopicNameIsAnErrorAndItsCallbackNeverRuns) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok()) << producer.status();
  bool called = false;
  absl::Status s = (*producer)->Produce({std::string(600, 't'), kAnyPartition, "k", "v", {{"ce_id", "x"}}},
                                        [&](const DeliveryReport&) { called = true; });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE((*producer)->ProduceSync({"t", kAnyPartition, "k", "v", {}}, absl::Seconds(10)).ok());
  EXPECT_TRUE((*producer)->Flush(absl::Seconds(5)).ok());
  EXPECT_FALSE(called);
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

// Signaling holds a record back while another partition still has unread
// records accepted before it (signaling's ArrivalOrder): Behind says which.
TEST_F(KafkaTest, BehindNamesThePartitionsWithRecordsNotYetPolled) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*producer)->ProduceSync({"t", 0, "k", std::to_string(i), {}}, absl::Seconds(10)).ok());
  }
  ConsumerOptions co;
  co.bootstrap_servers = cluster_->bootstrap_servers();
  co.group_id = "g-behind";
  co.topics = {"t"};
  auto consumer = Consumer::Create(co);
  ASSERT_TRUE(consumer.ok());
  std::optional<InRecord> first;
  for (int i = 0; i < 300 && !first; ++i) {
    auto r = (*consumer)->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(r.ok());
    first = std::move(*r);
  }
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->value, "0");
  // Two records of partition 0 are fetched but not yet polled.
  const std::vector<TopicPartition> behind = (*consumer)->Behind();
  EXPECT_NE(std::find(behind.begin(), behind.end(), TopicPartition{"t", 0}), behind.end());
  int polled = 1;
  for (int i = 0; i < 300 && polled < 3; ++i) {
    auto r = (*consumer)->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(r.ok());
    if (r->has_value()) ++polled;
  }
  ASSERT_EQ(polled, 3);
  // Everything polled, and the empty partitions answered by a fetch: none is behind.
  std::vector<TopicPartition> after = (*consumer)->Behind();
  for (int i = 0; i < 50 && !after.empty(); ++i) {
    ASSERT_TRUE((*consumer)->Poll(absl::Milliseconds(100)).ok());
    after = (*consumer)->Behind();
  }
  EXPECT_TRUE(after.empty()) << after.size() << " partitions behind";
  // A new record makes its partition behind again once a fetch brought it.
  ASSERT_TRUE((*producer)->ProduceSync({"t", 2, "k", "x", {}}, absl::Seconds(10)).ok());
  bool behind_again = false;
  for (int i = 0; i < 100 && !behind_again; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    const std::vector<TopicPartition> b = (*consumer)->Behind();
    behind_again = b.size() == 1 && b[0] == TopicPartition{"t", 2};
  }
  EXPECT_TRUE(behind_again);
}

TEST(TimeoutMsTest, AMissedDeadlineNeverBecomesWaitForever) {
  const struct {
    absl::Duration wait;
    int ms;
  } cases[] = {
      {absl::Microseconds(-1500), 0},  // truncation toward zero made this -1: librdkafka's "forever"
      {absl::Milliseconds(-1), 0},
      {absl::Seconds(-3), 0},
      {-absl::InfiniteDuration(), 0},
      {absl::ZeroDuration(), 0},
      {absl::Microseconds(500), 0},
      {absl::Milliseconds(5), 5},
      {absl::Seconds(30), 30000},
      {absl::Hours(24 * 365), INT_MAX},
      {absl::InfiniteDuration(), -1},
  };
  for (const auto& c : cases) EXPECT_EQ(TimeoutMs(c.wait), c.ms) << absl::FormatDuration(c.wait);
}

// The signaling loop computes its poll wait from a batch deadline; once that deadline had just passed (-1.5 ms),
// Poll blocked until the next record arrived, holding the consumed batch uncommitted and stopping the timers (the
// crash test's reference run stalled under the sanitizer). A missed deadline must return at once.
TEST_F(KafkaTest, PollWithAMissedDeadlineReturnsInsteadOfWaitingForTheNextRecord) {
  ConsumerOptions co;
  co.bootstrap_servers = cluster_->bootstrap_servers();
  co.group_id = "g-deadline";
  co.topics = {"t"};
  std::atomic<bool> assigned{false};
  co.on_assign = [&](const std::vector<TopicPartition>&) { assigned = true; };
  auto consumer = Consumer::Create(co);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  for (int i = 0; i < 300 && !assigned; ++i) ASSERT_TRUE((*consumer)->Poll(absl::Milliseconds(100)).ok());
  ASSERT_TRUE(assigned) << "the consumer never got its partitions";

  auto polled = std::async(std::launch::async, [&] { return (*consumer)->Poll(absl::Microseconds(-1500)); });
  const bool returned = polled.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  if (!returned) {
    // Unblock the waiting Poll so the test can end, then fail.
    auto producer = Producer::Create(Options());
    ASSERT_TRUE(producer.ok());
    ASSERT_TRUE((*producer)->ProduceSync({"t", kAnyPartition, "k", "unblock", {}}, absl::Seconds(10)).ok());
  }
  auto r = polled.get();
  EXPECT_TRUE(returned) << "Poll with a deadline 1.5 ms in the past waited for a record";
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(returned && r->has_value()) << "nothing was produced before the poll";
  (*consumer)->Close();
}

// Fills partition 0 of "t" past the mock's retention (about 5 MiB), so the
// oldest records are gone. Returns the number of records produced.
int OverflowPartitionZero(Producer& producer) {
  const std::string big(100 * 1024, 'x');
  const int n = 70;  // 7 MiB
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(producer.Produce({"t", 0, "k", big, {}}, [](const DeliveryReport&) {}).ok());
  }
  EXPECT_TRUE(producer.Flush(absl::Seconds(30)).ok());
  return n;
}

TEST_F(KafkaTest, AStoredOffsetBelowTheLogStartStopsThePartitionInsteadOfSkipping) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok());
  const int produced = OverflowPartitionZero(**producer);
  ASSERT_TRUE((*producer)->ProduceSync({"t", 1, "k1", "other", {}}, absl::Seconds(10)).ok());
  ConsumerOptions co;
  co.bootstrap_servers = cluster_->bootstrap_servers();
  co.group_id = "gap";
  co.topics = {"t"};
  // The store never processed anything: it starts at offset 0, which is gone.
  std::vector<Gap> reported;
  co.on_gap = [&](const Gap& g) { reported.push_back(g); };
  auto consumer = Consumer::Create(co);
  ASSERT_TRUE(consumer.ok());
  std::vector<InRecord> records;
  for (int i = 0; i < 100 && (reported.empty() || records.empty()); ++i) {
    auto r = (*consumer)->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->has_value()) records.push_back(**r);
  }
  // A few more polls: nothing of partition 0 may show up after the gap.
  for (int i = 0; i < 10; ++i) {
    auto r = (*consumer)->Poll(absl::Milliseconds(100));
    if (r.ok() && r->has_value()) records.push_back(**r);
  }
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].tp, (TopicPartition{"t", 0}));
  EXPECT_EQ(reported[0].next_offset, 0);
  EXPECT_GT(reported[0].log_start, 0);
  EXPECT_LT(reported[0].log_start, produced);
  EXPECT_EQ(reported[0].lost(), reported[0].log_start);
  const std::vector<Gap> gaps = (*consumer)->Gaps();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].tp.partition, 0);
  // The other partition goes on; partition 0 yields nothing at all.
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].partition, 1);
  (*consumer)->Close();

  // The operator accepts the loss up to the log start: the partition resumes there.
  co.group_id = "gap-accepted";
  co.accepted_losses = {{{"t", 0}, reported[0].log_start}};
  reported.clear();
  auto accepted = Consumer::Create(co);
  ASSERT_TRUE(accepted.ok());
  std::vector<int64_t> offsets;
  for (int i = 0; i < 200 && offsets.size() < static_cast<size_t>(produced - gaps[0].log_start); ++i) {
    auto r = (*accepted)->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(r.ok());
    if (r->has_value() && (*r)->partition == 0) offsets.push_back((*r)->offset);
  }
  ASSERT_FALSE(offsets.empty());
  EXPECT_EQ(offsets.front(), gaps[0].log_start);
  EXPECT_EQ(offsets.back(), produced - 1);
  EXPECT_TRUE(reported.empty());
  EXPECT_TRUE((*accepted)->Gaps().empty());

  // The partition reader (changelog restore) can only go on from the log
  // start; it logs and counts the loss instead of hiding it.
  std::vector<int64_t> read;
  ASSERT_TRUE(ReadPartitionToEnd(Options(), {"t", 0}, 0, [&](const InRecord& r) { read.push_back(r.offset); },
                                 absl::Seconds(30))
                  .ok());
  ASSERT_FALSE(read.empty());
  EXPECT_EQ(read.front(), gaps[0].log_start);
  EXPECT_EQ(read.back(), produced - 1);
}

// What each partition of a topic received, in partition order (e2e_bench
// counts the pipeline's records per topic with it).
TEST_F(KafkaTest, EndOffsetsCountTheRecordsWrittenToEachPartition) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok()) << producer.status();
  const std::vector<int> per_partition = {2, 0, 5, 1};
  for (int32_t p = 0; p < 4; ++p) {
    for (int i = 0; i < per_partition[static_cast<size_t>(p)]; ++i) {
      ASSERT_TRUE((*producer)->ProduceSync({"t", p, "k", "v", {}}, absl::Seconds(10)).ok());
    }
  }
  auto ends = EndOffsets(Options(), "t", absl::Seconds(10));
  ASSERT_TRUE(ends.ok()) << ends.status();
  EXPECT_EQ(*ends, (std::vector<int64_t>{2, 0, 5, 1}));
  ClientOptions nobody;
  nobody.bootstrap_servers = "127.0.0.1:1";  // nothing listens: an error, not zeros
  EXPECT_FALSE(EndOffsets(nobody, "t", absl::Seconds(2)).ok());
}

TEST(FindHeaderTest, TheFirstHeaderOfThatNameAsACopyOrAViewIntoTheRecord) {
  const Headers headers = {{"ce_id", "a-1"}, {"ce_time", ""}, {"ce_id", "a-2"}};
  EXPECT_EQ(FindHeader(headers, "ce_id"), "a-1");
  const std::optional<std::string_view> view = FindHeaderView(headers, "ce_id");
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(*view, "a-1");
  EXPECT_EQ(view->data(), headers[0].value.data());  // no copy
  // Present but empty is not absent.
  EXPECT_EQ(FindHeaderView(headers, "ce_time"), std::string_view());
  EXPECT_EQ(FindHeaderView(headers, "ce_type"), std::nullopt);
  EXPECT_EQ(FindHeader(headers, "ce_type"), std::nullopt);
}

// What ingest (and e2e_bench's writer) tell the backlog monitor per record.
TEST(PayloadBytesTest, KeyValueAndEveryHeadersKeyAndValue) {
  EXPECT_EQ(PayloadBytes({"topic-not-counted", 0, "key", "value", {{"h1", "abc"}, {"h2", ""}}}), 3u + 5u + 5u + 2u);
  EXPECT_EQ(PayloadBytes({}), 0u);
}

TEST_F(KafkaTest, BacklogMonitorHoldsBackUntilTheGroupCommittedItsOffsets) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok());
  // A key of partition 0 and one of another partition.
  std::string key0, key_other;
  for (int i = 0; key0.empty() || key_other.empty(); ++i) {
    std::string k = "key-" + std::to_string(i);
    (PartitionForKey(k, 4) == 0 ? key0 : key_other) = k;
  }
  BacklogOptions bo;
  bo.kafka = Options();
  bo.group_id = "slow";
  bo.topics = {"t"};
  bo.max_backlog_records = 50;
  bo.refresh = absl::Milliseconds(50);
  auto monitor = BacklogMonitor::Start(bo);
  ASSERT_TRUE(monitor.ok()) << monitor.status();
  EXPECT_TRUE((*monitor)->Admit("t", key0).ok());
  for (int i = 0; i < 50; ++i) {
    auto r = (*producer)->ProduceSync({"t", kAnyPartition, key0, "v", {}}, absl::Seconds(10));
    ASSERT_TRUE(r.ok());
    if (i < 10) (*monitor)->Produced(*r, 100);  // acknowledged records count at once
  }
  // Nothing committed by "slow": 50 records unprocessed in partition 0.
  absl::Status refused;
  for (int i = 0; i < 100 && refused.ok(); ++i) {
    refused = (*monitor)->Admit("t", key0);
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_TRUE((*monitor)->Admit("t", key_other).ok());
  EXPECT_GE((*monitor)->RetryAfter(), absl::Seconds(1));

  // The group commits what it processed: the partition is admitted again.
  ConsumerOptions co;
  co.bootstrap_servers = cluster_->bootstrap_servers();
  co.group_id = "slow";
  co.topics = {"t"};
  auto consumer = Consumer::Create(co);
  ASSERT_TRUE(consumer.ok());
  int seen = 0;
  for (int i = 0; i < 200 && seen < 50; ++i) {
    auto r = (*consumer)->Poll(absl::Milliseconds(100));
    ASSERT_TRUE(r.ok());
    if (r->has_value()) ++seen;
  }
  ASSERT_EQ(seen, 50);
  ASSERT_TRUE((*consumer)->CommitOffsets({{{"t", 0}, 45}}).ok());
  absl::Status admitted = refused;
  for (int i = 0; i < 200 && !admitted.ok(); ++i) {
    (void)(*consumer)->Poll(absl::Milliseconds(20));  // serves the async commit
    admitted = (*monitor)->Admit("t", key0);
  }
  EXPECT_TRUE(admitted.ok()) << admitted;
  EXPECT_EQ((*monitor)->Snapshot()[(TopicPartition{"t", 0})].records(), 5);
  (*consumer)->Close();
}

TEST(NextOffsetsTest, AfterTheLastRecordOfEveryPartitionWhateverTheRuns) {
  auto rec = [](std::string topic, int32_t partition, int64_t offset) {
    InRecord r;
    r.topic = std::move(topic);
    r.partition = partition;
    r.offset = offset;
    return r;
  };
  // Runs of one partition interleaved with others, two topics with the same
  // partition number, a partition seen once.
  const std::vector<InRecord> records = {rec("a", 0, 5), rec("a", 0, 6), rec("a", 1, 9), rec("b", 1, 3),
                                         rec("a", 0, 7), rec("a", 1, 10), rec("a", 1, 11), rec("c", 2, 0)};
  std::map<TopicPartition, int64_t> next = {{{"b", 1}, 40}};  // ahead already: stays
  AdvanceNextOffsets(records, next);
  const std::map<TopicPartition, int64_t> want = {
      {{"a", 0}, 8}, {{"a", 1}, 12}, {{"b", 1}, 40}, {{"c", 2}, 1}};
  EXPECT_EQ(next, want);

  std::map<TopicPartition, int64_t> none;
  AdvanceNextOffsets({}, none);
  EXPECT_TRUE(none.empty());
}

TEST(AcceptedLossTest, ParsesTopicPartitionOffsetAndRejectsEverythingElse) {
  auto ok = ParseAcceptedLosses("inbeeld.verzuimmeldingen.v1:2:1500,t:0:7");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].tp, (TopicPartition{"inbeeld.verzuimmeldingen.v1", 2}));
  EXPECT_EQ((*ok)[0].resume_at, 1500);
  EXPECT_EQ((*ok)[1].tp, (TopicPartition{"t", 0}));
  EXPECT_TRUE(ParseAcceptedLosses("").ok());
  for (const char* bad : {"t", "t:1", ":1:2", "t:x:2", "t:1:y", "t:-1:2", "t:1:-2"}) {
    EXPECT_FALSE(ParseAcceptedLosses(bad).ok()) << bad;
  }
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

// One --kafka-config serves all clients of a service: librdkafka's own property table decides which client a
// property is for, so a producer is not given fetch.wait.max.ms (librdkafka warned CONFWARN at every start).
TEST(KafkaConfigTest, PropertyScopeComesFromLibrdkafkasTable) {
  struct Row {
    const char* name;
    bool producer;
    bool consumer;
  };
  for (const Row& row : std::vector<Row>{{"fetch.wait.max.ms", false, true},
                                         {"isolation.level", false, true},
                                         {"group.id", false, true},
                                         {"linger.ms", true, false},
                                         {"acks", true, false},
                                         {"enable.idempotence", true, false},
                                         {"bootstrap.servers", true, true},
                                         {"security.protocol", true, true},
                                         {"ssl.ca.location", true, true},
                                         {"no.such.property", true, true}}) {
    EXPECT_EQ(internal::PropertyAppliesTo(row.name, internal::ClientKind::kProducer), row.producer) << row.name;
    EXPECT_EQ(internal::PropertyAppliesTo(row.name, internal::ClientKind::kConsumer), row.consumer) << row.name;
  }
}

TEST(KafkaConfigTest, ClientsGetOnlyTheirOwnPropertiesAndNoWarning) {
  ClientOptions o;
  o.bootstrap_servers = "127.0.0.1:1";  // nothing listens there; creating a client does not connect
  o.extra = {{"fetch.wait.max.ms", "10"}, {"linger.ms", "7"}, {"socket.timeout.ms", "12345"}};
  testing::internal::CaptureStderr();
  auto producer_conf = internal::MakeConf(o, internal::ClientKind::kProducer, {});
  auto producer = Producer::Create(o);
  auto consumer_conf = internal::MakeConf(o, internal::ClientKind::kConsumer, {});
  ConsumerOptions c;
  static_cast<ClientOptions&>(c) = o;
  c.group_id = "g";
  c.topics = {"t"};
  auto consumer = Consumer::Create(c);
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(producer.ok()) << producer.status();
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  EXPECT_EQ(err.find("CONFWARN"), std::string::npos) << err;
  ASSERT_TRUE(producer_conf.ok() && consumer_conf.ok());
  std::string value;
  EXPECT_EQ((*producer_conf)->get("linger.ms", value), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(value, "7");
  EXPECT_EQ((*consumer_conf)->get("fetch.wait.max.ms", value), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(value, "10");
  EXPECT_EQ((*producer_conf)->get("socket.timeout.ms", value), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(value, "12345");
  EXPECT_EQ((*consumer_conf)->get("socket.timeout.ms", value), RdKafka::Conf::CONF_OK);
  EXPECT_EQ(value, "12345");
}

TEST(KafkaConfigTest, AnUnknownPropertyIsStillRefusedByName) {
  ClientOptions o;
  o.bootstrap_servers = "127.0.0.1:1";
  o.extra = {{"lingr.ms", "7"}};
  auto conf = internal::MakeConf(o, internal::ClientKind::kProducer, {});
  ASSERT_FALSE(conf.ok());
  EXPECT_NE(conf.status().message().find("lingr.ms"), std::string::npos) << conf.status();
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

// A producer that librdkafka declared fatal is replaced, and the records it still held (never acknowledged) are
// purged. They report ABORTED: produce again, with the same id. Ingest answers UNAVAILABLE (retry with the same id),
// signaling resumes from its stored offsets, routing produces its batch again. They reported INTERNAL ("Local:
// Purged in queue"), and signaling exited after a broker of the Apache Kafka cluster was killed
// (tests/kafka/failover_test.sh).
TEST(KafkaUnavailableTest, RecordsPurgedFromAReplacedFatalProducerAreAbortedAndResumable) {
  ClientOptions o;
  o.bootstrap_servers = "127.0.0.1:1";  // nothing listens there: the records stay unacknowledged
  auto producer = Producer::Create(o);
  ASSERT_TRUE(producer.ok());
  auto mu = std::make_shared<absl::Mutex>();
  auto reports = std::make_shared<std::vector<absl::Status>>();
  auto record = [mu, reports](const DeliveryReport& r) {
    absl::MutexLock lock(mu.get());
    reports->push_back(r.status);
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*producer)->Produce({"t", kAnyPartition, "k", "v", {}}, record).ok());
  ASSERT_TRUE((*producer)->SimulateFatalError("test: sequence desynchronisation").ok());
  // The next record replaces the fatal producer; the old one's three records are purged.
  ASSERT_TRUE((*producer)->Produce({"t", kAnyPartition, "k", "after", {}}, [](const DeliveryReport&) {}).ok());
  std::vector<absl::Status> purged;
  for (int round = 0; round < 100 && purged.size() < 3; ++round) {
    {
      absl::MutexLock lock(mu.get());
      purged = *reports;
    }
    if (purged.size() < 3) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(purged.size(), 3u);
  for (const absl::Status& s : purged) {
    EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
    EXPECT_TRUE(ResumableFailure(s)) << s;
  }
  producer->reset();
}

// What a delivery report's error means for its caller: produce again (ABORTED, UNAVAILABLE) or not.
TEST(ResumeTest, DeliveryErrorsOfAFatalOrLostProducerAreProducedAgain) {
  for (const RdKafka::ErrorCode e : {RdKafka::ERR__FATAL, RdKafka::ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                     RdKafka::ERR__PURGE_QUEUE, RdKafka::ERR__PURGE_INFLIGHT}) {
    EXPECT_EQ(internal::ToStatus(e, "kafka delivery").code(), absl::StatusCode::kAborted) << RdKafka::err2str(e);
  }
  for (const RdKafka::ErrorCode e : {RdKafka::ERR__MSG_TIMED_OUT, RdKafka::ERR_NOT_ENOUGH_REPLICAS,
                                     RdKafka::ERR_NOT_LEADER_FOR_PARTITION}) {
    EXPECT_EQ(internal::ToStatus(e, "kafka delivery").code(), absl::StatusCode::kUnavailable) << RdKafka::err2str(e);
  }
  for (const RdKafka::ErrorCode e : {RdKafka::ERR__FATAL, RdKafka::ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                     RdKafka::ERR__PURGE_QUEUE, RdKafka::ERR__MSG_TIMED_OUT}) {
    EXPECT_TRUE(ResumableFailure(internal::ToStatus(e, "kafka delivery"))) << RdKafka::err2str(e);
  }
  EXPECT_FALSE(ResumableFailure(internal::ToStatus(RdKafka::ERR_MSG_SIZE_TOO_LARGE, "kafka delivery")));
}

TEST(ResumeTest, KafkaFailuresAreResumableAndOthersAreNot) {
  EXPECT_TRUE(ResumableFailure(absl::UnavailableError("kafka delivery: Local: Message timed out")));
  EXPECT_TRUE(ResumableFailure(absl::AbortedError("kafka delivery: Local: Purged in queue")));
  EXPECT_TRUE(ResumableFailure(absl::DeadlineExceededError("kafka flush")));
  EXPECT_FALSE(ResumableFailure(absl::InternalError("store: IO error: No space left on device")));
  EXPECT_FALSE(ResumableFailure(absl::InvalidArgumentError("kafka: bad property")));
  EXPECT_FALSE(ResumableFailure(absl::OkStatus()));
}

TEST(ResumeTest, TheFifthFailureWithinTenMinutesEndsIt) {
  ResumeBudget budget;  // 4 within 10 minutes
  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(budget.Take(t0 + absl::Minutes(i))) << i;
  EXPECT_EQ(budget.Recent(t0 + absl::Minutes(4)), 4);
  EXPECT_FALSE(budget.Take(t0 + absl::Minutes(4)));
  // Ten minutes after the first, it no longer counts.
  EXPECT_TRUE(budget.Take(t0 + absl::Minutes(10)));
  EXPECT_FALSE(budget.Take(t0 + absl::Minutes(10) + absl::Seconds(1)));
  EXPECT_EQ(budget.Recent(t0 + absl::Minutes(30)), 0);
  EXPECT_TRUE(budget.Take(t0 + absl::Minutes(30)));
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
    // The organisation table keeps one partition (ordered, compacted); every
    // other topic, DLQs included, has the count of the event topics.
    EXPECT_EQ(s.partitions, s.name == kTopicOrganisaties ? 1 : 6) << s.name;
  }
  for (auto t : kEventTopics) {
    EXPECT_TRUE(names.contains(std::string(t)));
    EXPECT_TRUE(names.contains(DlqTopic(t)));
  }
  EXPECT_TRUE(names.contains(std::string(kTopicSignalen)));
}


// --exactly-once: the default is the idempotent mode (any broker); a typo is a usage error naming both modes.
TEST(ExactlyOnceTest, ParsesTheTwoModesAndRefusesAnythingElse) {
  EXPECT_EQ(*ParseExactlyOnce("idempotent"), ExactlyOnce::kIdempotent);
  EXPECT_EQ(*ParseExactlyOnce("transactions"), ExactlyOnce::kTransactions);
  for (const char* bad : {"", "transaction", "TRANSACTIONS", "exactly-once", "none"}) {
    absl::StatusOr<ExactlyOnce> mode = ParseExactlyOnce(bad);
    ASSERT_FALSE(mode.ok()) << bad;
    EXPECT_NE(mode.status().message().find("idempotent"), std::string_view::npos);
    EXPECT_NE(mode.status().message().find("transactions"), std::string_view::npos);
  }
}

TEST(ExactlyOnceTest, FlagDefaultsToIdempotentAndABadValueExitsTwo) {
  auto parse = [](const std::vector<std::string>& args, std::string& mode, std::string& err_text) {
    CLI::App app("test", "svc");
    std::string instance;
    AddExactlyOnceFlags(app, mode, instance);
    std::ostringstream out, err;
    std::optional<int> exit = util::ParseFlags(app, args, out, err);
    err_text = err.str();
    return exit;
  };
  std::string mode = "idempotent", err;
  EXPECT_EQ(parse({}, mode, err), std::nullopt);
  EXPECT_EQ(mode, "idempotent");
  EXPECT_EQ(parse({"--exactly-once=transactions"}, mode, err), std::nullopt);
  EXPECT_EQ(mode, "transactions");
  mode = "idempotent";
  EXPECT_EQ(parse({"--exactly-once=transaction"}, mode, err), std::optional<int>(2));
  EXPECT_NE(err.find("--exactly-once must be idempotent"), std::string::npos) << err;
}

TEST(ExactlyOnceTest, TransactionalIdIsStablePerInstanceAndDistinctBetweenInstances) {
  EXPECT_EQ(TransactionalId("inbeeld-routing", "pod-0"), "inbeeld-routing-pod-0");
  EXPECT_EQ(DefaultInstanceId("/var/lib/inbeeld/signaling"), DefaultInstanceId("/var/lib/inbeeld/signaling/"));
  EXPECT_EQ(DefaultInstanceId("/var/lib/inbeeld/signaling"), DefaultInstanceId("/var/lib/inbeeld//signaling"));
  EXPECT_NE(DefaultInstanceId("/var/lib/inbeeld/a"), DefaultInstanceId("/var/lib/inbeeld/b"));
  EXPECT_EQ(DefaultInstanceId("/x").size(), 16u);
}

// The default producer is the idempotent one the embedded mock (and every broker) runs: not transactional, records
// produced without a transaction, and the transaction calls refused rather than silently ignored.
TEST_F(KafkaTest, DefaultProducerIsIdempotentNotTransactional) {
  auto producer = Producer::Create(Options());
  ASSERT_TRUE(producer.ok()) << producer.status();
  EXPECT_FALSE((*producer)->Transactional());
  auto report = (*producer)->ProduceSync({"t", 0, "k", "v", {}}, absl::Seconds(10));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ((*producer)->BeginTransaction().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*producer)->CommitTransaction().code(), absl::StatusCode::kFailedPrecondition);
}

// A transactional producer on the mock: the API sequence works (the mock has no read_committed semantics; the
// tests/kafka txn test proves those on Apache Kafka). Outside a transaction a record is refused.
TEST_F(KafkaTest, TransactionalProducerCommitsAndAborts) {
  TransactionOptions t;
  t.transactional_id = TransactionalId("test", "mock");
  t.timeout = absl::Seconds(10);
  auto producer = Producer::Create(Options(), t);
  ASSERT_TRUE(producer.ok()) << producer.status();
  EXPECT_TRUE((*producer)->Transactional());
  ASSERT_TRUE((*producer)->BeginTransaction().ok());
  auto delivered = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE((*producer)->Produce({"t", 0, "k", "committed", {}}, [delivered](const DeliveryReport& r) {
    if (r.status.ok()) ++*delivered;
  }).ok());
  ASSERT_TRUE((*producer)->CommitTransaction().ok());
  EXPECT_EQ(delivered->load(), 1);
  ASSERT_TRUE((*producer)->BeginTransaction().ok());
  ASSERT_TRUE((*producer)->Produce({"t", 0, "k", "aborted", {}}, [](const DeliveryReport&) {}).ok());
  EXPECT_TRUE((*producer)->AbortTransaction().ok());
  EXPECT_TRUE((*producer)->AbortTransaction().ok());  // nothing open: fine
  EXPECT_FALSE((*producer)->Produce({"t", 0, "k", "outside", {}}, [](const DeliveryReport&) {}).ok());
}

}  // namespace
}  // namespace inbeeld::kafka

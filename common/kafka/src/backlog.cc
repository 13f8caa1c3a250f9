#include "inbeeld/kafka/backlog.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "inbeeld/util/log.h"
#include "src/internal.h"

namespace inbeeld::kafka {
namespace {

// Record v2 batch header (61 bytes) + per-record varints and attributes.
constexpr int64_t kBatchOverheadBytes = 61;
constexpr int64_t kRecordOverheadBytes = 24;

class BacklogMonitorImpl final : public BacklogMonitor {
 public:
  explicit BacklogMonitorImpl(BacklogOptions options) : options_(std::move(options)) {}

  absl::Status Init() {
    for (const auto& topic : options_.topics) {
      auto n = PartitionCount(options_.kafka, topic, absl::Seconds(10));
      if (!n.ok()) return n.status();
      partitions_[topic] = *n;
    }
    // A consumer handle only to ask for the group's committed offsets
    // (OffsetFetch); it never subscribes, so it does not join the group.
    auto conf = internal::MakeConf(options_.kafka, internal::ClientKind::kConsumer, {{"group.id", options_.group_id},
                                                    {"enable.auto.commit", "false"}});
    if (!conf.ok()) return conf.status();
    std::string err;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
    if (!consumer_) return absl::InvalidArgumentError(absl::StrCat("kafka backlog consumer: ", err));
    Refresh();
    thread_ = std::thread([this] {
      while (!stop_.WaitForNotificationWithTimeout(options_.refresh)) Refresh();
    });
    return absl::OkStatus();
  }

  ~BacklogMonitorImpl() override {
    stop_.Notify();
    if (thread_.joinable()) thread_.join();
    if (consumer_) consumer_->close();
  }

  absl::Status Admit(std::string_view topic, std::string_view key) const override {
    auto n = partitions_.find(std::string(topic));
    if (n == partitions_.end()) return absl::OkStatus();
    const TopicPartition tp{std::string(topic), PartitionForKey(key, n->second)};
    absl::MutexLock lock(&mu_);
    auto it = backlog_.find(tp);
    if (it == backlog_.end()) return absl::OkStatus();
    const int64_t records = it->second.records();
    const int64_t bytes = records * EstimatedLogBytes(average_payload_bytes_);
    if (!Over(records, bytes)) return absl::OkStatus();
    return absl::ResourceExhaustedError(absl::StrCat(
        "holding back: ", records, " records (about ", bytes / 1024, " KiB) of ", tp.topic, " partition ",
        tp.partition, " are not yet processed by ", options_.group_id,
        "; more would exceed what Kafka retains. Retry the same event (same id) later"));
  }

  void Produced(const DeliveryReport& report, size_t bytes) override {
    if (!report.status.ok() || report.offset < 0) return;
    absl::MutexLock lock(&mu_);
    PartitionBacklog& b = backlog_[{report.topic, report.partition}];
    b.end = std::max(b.end, report.offset + 1);
    // Running average of what our records weigh (slowly adapting).
    average_payload_bytes_ = (average_payload_bytes_ * 255 + bytes) / 256;
  }

  absl::Duration RetryAfter() const override { return std::max(options_.refresh * 4, absl::Seconds(1)); }

  std::map<TopicPartition, PartitionBacklog> Snapshot() const override {
    absl::MutexLock lock(&mu_);
    return backlog_;
  }

 private:
  bool Over(int64_t records, int64_t bytes) const {
    return (options_.max_backlog_records > 0 && records >= options_.max_backlog_records) ||
           (options_.max_backlog_bytes > 0 && bytes >= options_.max_backlog_bytes);
  }

  void Refresh() {
    std::vector<RdKafka::TopicPartition*> parts;
    std::map<TopicPartition, int64_t> ends;
    for (const auto& [topic, n] : partitions_) {
      for (int32_t p = 0; p < n; ++p) {
        parts.push_back(RdKafka::TopicPartition::create(topic, p));
        int64_t low = 0, high = 0;
        if (consumer_->query_watermark_offsets(topic, p, &low, &high, 2000) == RdKafka::ERR_NO_ERROR) {
          ends[{topic, p}] = high;
        }
      }
    }
    std::map<TopicPartition, int64_t> committed;
    RdKafka::ErrorCode e = consumer_->committed(parts, 2000);
    if (e == RdKafka::ERR_NO_ERROR) {
      for (const auto* p : parts) {
        // No commit yet (OFFSET_INVALID): everything is unprocessed.
        committed[{p->topic(), p->partition()}] = p->offset() >= 0 ? p->offset() : 0;
      }
    } else if (!warned_) {
      warned_ = true;
      util::LogWarn("backlog: cannot read the group's committed offsets",
                    {{"group", options_.group_id}, {"error", RdKafka::err2str(e)}});
    }
    RdKafka::TopicPartition::destroy(parts);
    absl::MutexLock lock(&mu_);
    for (const auto& [tp, high] : ends) {
      PartitionBacklog& b = backlog_[tp];
      b.end = std::max(b.end, high);
    }
    for (const auto& [tp, off] : committed) backlog_[tp].committed = off;
    // One log line when a partition starts or stops holding back.
    for (const auto& [tp, b] : backlog_) {
      const bool over = Over(b.records(), b.records() * EstimatedLogBytes(average_payload_bytes_));
      if (over == holding_[tp]) continue;
      holding_[tp] = over;
      util::LogInfo(over ? "holding back: backlog at the limit, new events are refused (retryable)"
                         : "backlog below the limit again, accepting events",
                    {{"topic", tp.topic},
                     {"partition", std::to_string(tp.partition)},
                     {"backlog_records", std::to_string(b.records())},
                     {"group", options_.group_id}});
    }
  }

  const BacklogOptions options_;
  std::map<std::string, int32_t> partitions_;  // fixed after Init
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::thread thread_;
  absl::Notification stop_;
  bool warned_ = false;  // refresh thread only
  mutable absl::Mutex mu_;
  std::map<TopicPartition, PartitionBacklog> backlog_ ABSL_GUARDED_BY(mu_);
  size_t average_payload_bytes_ ABSL_GUARDED_BY(mu_) = 512;
  std::map<TopicPartition, bool> holding_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

size_t PayloadBytes(const OutRecord& record) {
  size_t n = record.key.size() + record.value.size();
  for (const auto& h : record.headers) n += h.key.size() + h.value.size();
  return n;
}

int64_t EstimatedLogBytes(size_t payload_bytes) {
  return static_cast<int64_t>(payload_bytes) + kRecordOverheadBytes + kBatchOverheadBytes;
}

absl::StatusOr<std::unique_ptr<BacklogMonitor>> BacklogMonitor::Start(const BacklogOptions& options) {
  auto m = std::make_unique<BacklogMonitorImpl>(options);
  if (auto s = m->Init(); !s.ok()) return s;
  return std::unique_ptr<BacklogMonitor>(std::move(m));
}

}  // namespace inbeeld::kafka

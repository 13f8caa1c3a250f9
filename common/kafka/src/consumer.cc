#include "absl/synchronization/mutex.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/util/log.h"
#include "src/internal.h"

namespace inbeeld::kafka {
namespace {

std::vector<TopicPartition> ToList(const std::vector<RdKafka::TopicPartition*>& parts) {
  std::vector<TopicPartition> out;
  for (const auto* p : parts) out.push_back({p->topic(), p->partition()});
  return out;
}

class ConsumerImpl final : public Consumer, public RdKafka::RebalanceCb {
 public:
  explicit ConsumerImpl(const ConsumerOptions& options)
      : options_(options), events_(options.on_stats) {}

  absl::Status Init() {
    if (options_.group_id.empty()) return absl::InvalidArgumentError("consumer needs a group id");
    auto conf = internal::MakeConf(
        options_, {
                      {"group.id", options_.group_id},
                      {"enable.auto.commit", "false"},
                      {"enable.auto.offset.store", "false"},
                      {"auto.offset.reset", "earliest"},
                      {"session.timeout.ms", std::to_string(options_.session_timeout_ms)},
                      {"heartbeat.interval.ms", std::to_string(std::max(100, options_.session_timeout_ms / 6))},
                      // Range assigns the same partition numbers of co-partitioned
                      // topics to the same member.
                      {"partition.assignment.strategy", "range"},
                  });
    if (!conf.ok()) return conf.status();
    std::string err;
    (*conf)->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), err);
    (*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(&events_), err);
    consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), err));
    if (!consumer_) return absl::InvalidArgumentError(absl::StrCat("kafka consumer: ", err));
    RdKafka::ErrorCode e = consumer_->subscribe(options_.topics);
    return internal::ToStatus(e, "kafka subscribe");
  }

  ~ConsumerImpl() override { Close(); }

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      for (auto* p : partitions) {
        std::optional<int64_t> start;
        if (options_.start_offset) start = options_.start_offset({p->topic(), p->partition()});
        p->set_offset(start ? *start : RdKafka::Topic::OFFSET_BEGINNING);
      }
      consumer->assign(partitions);
      {
        absl::MutexLock lock(&mu_);
        assignment_ = ToList(partitions);
      }
      if (options_.on_assign) options_.on_assign(ToList(partitions));
    } else {
      if (options_.on_revoke) options_.on_revoke(ToList(partitions));
      consumer->unassign();
      absl::MutexLock lock(&mu_);
      assignment_.clear();
    }
  }

  absl::StatusOr<std::optional<InRecord>> Poll(absl::Duration timeout) override {
    std::unique_ptr<RdKafka::Message> msg(
        consumer_->consume(static_cast<int>(absl::ToInt64Milliseconds(timeout))));
    switch (msg->err()) {
      case RdKafka::ERR_NO_ERROR:
        return std::optional<InRecord>(internal::ToInRecord(*msg));

      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        return std::optional<InRecord>();
      default:
        if (msg->err() == RdKafka::ERR__FATAL) {
          return internal::ToStatus(msg->err(), "kafka consume (fatal)");
        }
        util::LogWarn("kafka consume error", {{"error", msg->errstr()}});
        return std::optional<InRecord>();
    }
  }

  absl::Status CommitOffsets(const std::map<TopicPartition, int64_t>& next_offsets) override {
    std::vector<RdKafka::TopicPartition*> parts;
    for (const auto& [tp, off] : next_offsets) {
      parts.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition, off));
    }
    RdKafka::ErrorCode err = consumer_->commitAsync(parts);
    RdKafka::TopicPartition::destroy(parts);
    return internal::ToStatus(err, "kafka commit");
  }

  std::vector<TopicPartition> Assignment() const override {
    absl::MutexLock lock(&mu_);
    return assignment_;
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    if (consumer_) consumer_->close();
  }

 private:
  ConsumerOptions options_;
  internal::EventForwarder events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  mutable absl::Mutex mu_;
  std::vector<TopicPartition> assignment_ ABSL_GUARDED_BY(mu_);
  bool closed_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options) {
  auto c = std::make_unique<ConsumerImpl>(options);
  if (auto s = c->Init(); !s.ok()) return s;
  return std::unique_ptr<Consumer>(std::move(c));
}

}  // namespace inbeeld::kafka

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/kafka_metrics.h"
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
        options_, internal::ClientKind::kConsumer, {
                      {"group.id", options_.group_id},
                      {"enable.auto.commit", "false"},
                      {"enable.auto.offset.store", "false"},
                      // Records of an aborted transaction (--exactly-once=transactions upstream) are never
                      // read; those of an open one only once committed. librdkafka's default, said here.
                      {"isolation.level", "read_committed"},
                      // A start offset that is gone is a gap, reported by
                      // Poll; "earliest" would skip the lost records silently.
                      {"auto.offset.reset", "error"},
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
    for (const auto& t : options_.topics) InitLostRecords(t);  // series exist at 0
    RdKafka::ErrorCode e = consumer_->subscribe(options_.topics);
    return internal::ToStatus(e, "kafka subscribe");
  }

  ~ConsumerImpl() override { Close(); }

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      std::map<TopicPartition, int64_t> positions;
      for (auto* p : partitions) {
        const TopicPartition tp{p->topic(), p->partition()};
        std::optional<int64_t> start;
        if (options_.start_offset) start = options_.start_offset(tp);
        int64_t offset = start.value_or(0);
        for (const AcceptedLoss& a : options_.accepted_losses) {
          if (a.tp == tp && offset < a.resume_at) {
            util::LogWarn("operator accepted a loss: partition starts after records it never processed",
                          {{"topic", tp.topic},
                           {"partition", std::to_string(tp.partition)},
                           {"stored_offset", std::to_string(offset)},
                           {"resume_at", std::to_string(a.resume_at)},
                           {"records_given_up", std::to_string(a.resume_at - offset)}});
            offset = a.resume_at;
          }
        }
        p->set_offset(offset);
        positions[tp] = offset;
      }
      consumer->assign(partitions);
      {
        absl::MutexLock lock(&mu_);
        assignment_ = ToList(partitions);
        positions_ = std::move(positions);
        last_position_ = positions_.end();
      }
      if (options_.on_assign) options_.on_assign(ToList(partitions));
    } else {
      if (options_.on_revoke) options_.on_revoke(ToList(partitions));
      consumer->unassign();
      absl::MutexLock lock(&mu_);
      assignment_.clear();
      positions_.clear();
      last_position_ = positions_.end();
    }
  }

  absl::StatusOr<std::optional<InRecord>> Poll(absl::Duration timeout) override {
    std::unique_ptr<RdKafka::Message> msg(
        consumer_->consume(TimeoutMs(timeout)));
    switch (msg->err()) {
      case RdKafka::ERR_NO_ERROR: {
        InRecord r = internal::ToInRecord(*msg);
        absl::MutexLock lock(&mu_);
        // Records come in runs per partition: the entry of the last one
        // serves the next without a lookup (and without a key's copy).
        if (last_position_ == positions_.end() || last_position_->first.partition != r.partition ||
            last_position_->first.topic != r.topic) {
          last_position_ = positions_.try_emplace(TopicPartition{r.topic, r.partition}).first;
        }
        last_position_->second = r.offset + 1;
        return std::optional<InRecord>(std::move(r));
      }
      case RdKafka::ERR__AUTO_OFFSET_RESET:
      case RdKafka::ERR_OFFSET_OUT_OF_RANGE:
        StopAtGap(*msg);
        return std::optional<InRecord>();

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

  std::vector<Gap> Gaps() const override {
    absl::MutexLock lock(&mu_);
    std::vector<Gap> out;
    for (const auto& [tp, gap] : gaps_) out.push_back(gap);
    return out;
  }

  std::vector<TopicPartition> Behind() const override {
    std::vector<TopicPartition> out;
    absl::MutexLock lock(&mu_);
    for (const TopicPartition& tp : assignment_) {
      if (gaps_.contains(tp)) continue;  // stopped: nothing more comes
      int64_t low = 0, high = -1;
      const RdKafka::ErrorCode e = consumer_->get_watermark_offsets(tp.topic, tp.partition, &low, &high);
      const auto next = positions_.find(tp);
      if (e != RdKafka::ERR_NO_ERROR || high < 0 || next == positions_.end() || high > next->second) {
        out.push_back(tp);
      }
    }
    return out;
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    if (consumer_) consumer_->close();
  }

 private:
  // librdkafka stopped fetching the partition (auto.offset.reset=error): say
  // so loudly, count the lost records once, and leave it stopped.
  void StopAtGap(RdKafka::Message& msg) {
    Gap gap;
    gap.tp = {msg.topic_name(), msg.partition()};
    {
      absl::MutexLock lock(&mu_);
      auto it = positions_.find(gap.tp);
      gap.next_offset = it != positions_.end() ? it->second : msg.offset();
    }
    RdKafka::ErrorCode e = consumer_->query_watermark_offsets(gap.tp.topic, gap.tp.partition, &gap.log_start,
                                                              &gap.log_end, 5000);
    if (e != RdKafka::ERR_NO_ERROR) gap.log_start = gap.log_end = -1;
    bool first;
    {
      absl::MutexLock lock(&mu_);
      gaps_.insert_or_assign(gap.tp, gap);
      first = counted_.insert({gap.tp, gap.next_offset}).second;
    }
    util::LogError(
        "records lost: the partition's log no longer holds the records after the stored offset; partition "
        "stopped (restart with --accept-loss=TOPIC:PARTITION:OFFSET only after the source re-delivered them)",
        {{"topic", gap.tp.topic},
         {"partition", std::to_string(gap.tp.partition)},
         {"records_lost", std::to_string(gap.lost())},
         {"stored_offset", std::to_string(gap.next_offset)},
         {"log_start_offset", std::to_string(gap.log_start)},
         {"log_end_offset", std::to_string(gap.log_end)},
         {"accept_loss", absl::StrCat(gap.tp.topic, ":", gap.tp.partition, ":", gap.log_start)},
         {"error", msg.errstr()}});
    // A position beyond the log end loses an unknown number: count it as 1 so
    // the alert fires all the same.
    if (first) CountLostRecords(gap.tp.topic, std::max<int64_t>(gap.lost(), 1));
    if (options_.on_gap) options_.on_gap(gap);
  }

  ConsumerOptions options_;
  internal::EventForwarder events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  mutable absl::Mutex mu_;
  std::vector<TopicPartition> assignment_ ABSL_GUARDED_BY(mu_);
  // Next offset to hand out per assigned partition (start, then last + 1).
  std::map<TopicPartition, int64_t> positions_ ABSL_GUARDED_BY(mu_);
  // The entry of the last record handed out, or end() (map iterators stay valid until their entry goes).
  std::map<TopicPartition, int64_t>::iterator last_position_ ABSL_GUARDED_BY(mu_) = positions_.end();
  std::map<TopicPartition, Gap> gaps_ ABSL_GUARDED_BY(mu_);
  // (partition, position) pairs already counted in the metric.
  std::set<std::pair<TopicPartition, int64_t>> counted_ ABSL_GUARDED_BY(mu_);
  bool closed_ = false;
};

}  // namespace

absl::StatusOr<std::vector<AcceptedLoss>> ParseAcceptedLosses(std::string_view text) {
  std::vector<AcceptedLoss> out;
  for (absl::string_view item : absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipEmpty())) {
    // The topic may hold dots but no colon; split from the right.
    const size_t last = item.rfind(':');
    const size_t mid = last == absl::string_view::npos || last == 0 ? absl::string_view::npos : item.rfind(':', last - 1);
    AcceptedLoss a;
    if (mid == absl::string_view::npos || mid == 0 || !absl::SimpleAtoi(item.substr(mid + 1, last - mid - 1), &a.tp.partition) ||
        !absl::SimpleAtoi(item.substr(last + 1), &a.resume_at) || a.tp.partition < 0 || a.resume_at < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--accept-loss item must be TOPIC:PARTITION:OFFSET (offset from the records-lost log line): ", item));
    }
    a.tp.topic = std::string(item.substr(0, mid));
    out.push_back(std::move(a));
  }
  return out;
}

void AdvanceNextOffsets(const std::vector<InRecord>& records, std::map<TopicPartition, int64_t>& next) {
  for (size_t i = 0; i < records.size(); ++i) {
    const InRecord& r = records[i];
    const bool run_ends =
        i + 1 == records.size() || records[i + 1].partition != r.partition || records[i + 1].topic != r.topic;
    if (!run_ends) continue;
    int64_t& n = next[{r.topic, r.partition}];
    n = std::max(n, r.offset + 1);
  }
}

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options) {
  auto c = std::make_unique<ConsumerImpl>(options);
  if (auto s = c->Init(); !s.ok()) return s;
  return std::unique_ptr<Consumer>(std::move(c));
}

}  // namespace inbeeld::kafka

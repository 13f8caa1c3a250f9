#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/util/log.h"
#include "src/internal.h"

namespace inbeeld::kafka {

absl::Status ReadPartitionToEnd(const ClientOptions& options, const TopicPartition& tp, int64_t from_offset,
                                const std::function<void(const InRecord&)>& fn, absl::Duration timeout,
                                int64_t* next_offset) {
  // librdkafka's KafkaConsumer wants a group id even when it only assigns;
  // nothing is ever committed under it.
  auto conf = internal::MakeConf(options, internal::ClientKind::kConsumer, {{"group.id", "inbeeld-partition-reader"},
                                           {"enable.auto.commit", "false"},
                                           // A changelog or signal written in an aborted transaction
                                           // never happened; the end is the last stable offset.
                                           {"isolation.level", "read_committed"},
                                           {"enable.partition.eof", "true"}});
  if (!conf.ok()) return conf.status();
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (!consumer) return absl::InvalidArgumentError(err);
  const absl::Time deadline = absl::Now() + timeout;
  int64_t low = 0, high = 0;
  RdKafka::ErrorCode e = consumer->query_watermark_offsets(
      tp.topic, tp.partition, &low, &high, TimeoutMs(timeout));
  if (e != RdKafka::ERR_NO_ERROR) return internal::ToStatus(e, "kafka watermarks");
  if (from_offset < low) {
    // Retention (or the mock's ~5 MiB limit) deleted records this reader
    // needed: it can only go on from the log start, but never silently.
    util::LogError("records lost: the partition no longer holds the records to read; reading from its log start",
                   {{"topic", tp.topic},
                    {"partition", std::to_string(tp.partition)},
                    {"records_lost", std::to_string(low - from_offset)},
                    {"from_offset", std::to_string(from_offset)},
                    {"log_start_offset", std::to_string(low)}});
    CountLostRecords(tp.topic, low - from_offset);
  }
  const int64_t start = std::max(from_offset, low);
  if (next_offset != nullptr) *next_offset = start;
  if (start >= high) {
    consumer->close();
    return absl::OkStatus();
  }
  std::vector<RdKafka::TopicPartition*> parts = {RdKafka::TopicPartition::create(tp.topic, tp.partition, start)};
  e = consumer->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  if (e != RdKafka::ERR_NO_ERROR) return internal::ToStatus(e, "kafka assign");
  int64_t next = start;
  absl::Status result = absl::OkStatus();
  while (next < high) {
    if (absl::Now() > deadline) {
      result = absl::DeadlineExceededError("reading the partition to its end timed out");
      break;
    }
    std::unique_ptr<RdKafka::Message> msg(consumer->consume(200));
    if (msg->err() == RdKafka::ERR__TIMED_OUT || msg->err() == RdKafka::ERR__PARTITION_EOF) {
      if (msg->err() == RdKafka::ERR__PARTITION_EOF) break;
      continue;
    }
    if (msg->err() != RdKafka::ERR_NO_ERROR) {
      result = internal::ToStatus(msg->err(), "kafka read");
      break;
    }
    InRecord r = internal::ToInRecord(*msg);
    next = r.offset + 1;
    if (next_offset != nullptr) *next_offset = next;
    fn(r);
  }
  consumer->close();
  return result;
}

}  // namespace inbeeld::kafka

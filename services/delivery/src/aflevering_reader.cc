#include "inbeeld/delivery/aflevering_reader.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "inbeeld/delivery/cursor.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/util/log.h"

namespace inbeeld::delivery {
namespace {

int TimeoutMs(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms < 0) return 0;
  return ms > 60'000 ? 60'000 : static_cast<int>(ms);
}

class RdKafkaAfleveringReader final : public AfleveringReader {
 public:
  RdKafkaAfleveringReader(std::unique_ptr<RdKafka::KafkaConsumer> consumer, int32_t partitions)
      : consumer_(std::move(consumer)), partitions_(partitions) {}

  ~RdKafkaAfleveringReader() override {
    // Assign-only: nothing to leave or commit; close releases the fetchers.
    consumer_->close();
  }

  absl::StatusOr<std::optional<kafka::InRecord>> Poll(absl::Duration timeout) override {
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(TimeoutMs(timeout)));
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR:
        break;
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        return std::optional<kafka::InRecord>();
      case RdKafka::ERR__AUTO_OFFSET_RESET:
      case RdKafka::ERR_OFFSET_OUT_OF_RANGE:
        // Retention deleted signals this subscriber had not read yet.
        return absl::OutOfRangeError(absl::StrCat(
            "signals after your cursor are gone from partition ", message->partition(),
            " (retention); subscribe again without a cursor for what is kept, and ask for a re-delivery of ",
            "what is missing: ", message->errstr()));
      case RdKafka::ERR__UNKNOWN_TOPIC:
      case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
      case RdKafka::ERR__UNKNOWN_PARTITION:
        return absl::UnavailableError(
            absl::StrCat("aflevering topic unavailable: ", message->errstr()));
      default:
        if (message->err() == RdKafka::ERR__FATAL) {
          return absl::UnavailableError(absl::StrCat("kafka: ", message->errstr()));
        }
        util::LogWarn("kafka reader error (retrying)", {{"error", message->errstr()}});
        return std::optional<kafka::InRecord>();
    }
    kafka::InRecord record;
    record.topic = message->topic_name();
    record.partition = message->partition();
    record.offset = message->offset();
    if (message->key() != nullptr) record.key = *message->key();
    if (message->payload() != nullptr) {
      record.value.assign(static_cast<const char*>(message->payload()), message->len());
    }
    record.timestamp_ms = message->timestamp().timestamp;
    if (RdKafka::Headers* headers = message->headers(); headers != nullptr) {
      for (const RdKafka::Headers::Header& h : headers->get_all()) {
        std::string value;
        if (h.value() != nullptr) {
          value.assign(static_cast<const char*>(h.value()), h.value_size());
        }
        record.headers.push_back({h.key(), std::move(value)});
      }
    }
    return std::optional<kafka::InRecord>(std::move(record));
  }

  int32_t partition_count() const override { return partitions_; }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  int32_t partitions_;
};

absl::Status SetConf(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
  std::string error;
  if (conf.set(name, value, error) != RdKafka::Conf::CONF_OK) {
    return absl::InvalidArgumentError(absl::StrCat("kafka property ", name, ": ", error));
  }
  return absl::OkStatus();
}

// librdkafka statistics (broker round trip, queue) into the shared Kafka
// metrics; stateless, so one instance serves every reader.
class StatsForwarder final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_STATS) kafka::ExportStatsJson(event.str());
  }
};
StatsForwarder& Forwarder() {
  static auto* f = new StatsForwarder();
  return *f;
}

}  // namespace

namespace {

// A connected assign-only consumer and the watermarks of every partition.
struct Connection {
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::vector<std::pair<int64_t, int64_t>> watermarks;  // per partition: low, high
};

absl::StatusOr<Connection> Connect(const kafka::ClientOptions& options, const std::string& topic,
                                   absl::Duration metadata_timeout) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::vector<std::pair<std::string, std::string>> properties = {
      {"bootstrap.servers", options.bootstrap_servers},
      {"client.id", options.client_id},
      // librdkafka 2.0 wants a group.id for a KafkaConsumer even when it only
      // assign()s. The group is never joined (no subscribe) and nothing is
      // committed: the position is the subscriber's cursor.
      {"group.id", "inbeeld-delivery-reader"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      // Routing with --exactly-once=transactions: a batch it aborted (a crash before its commit) is never
      // delivered. (librdkafka's default, said here: a subscriber must not see it.)
      {"isolation.level", "read_committed"},
      // A cursor older than the retention is OUT_OF_RANGE for the
      // subscriber (Open checks it, Poll catches deletion while reading);
      // never a silent jump to the oldest record kept.
      {"auto.offset.reset", "error"},
      // Subscribers wait for new signals: low fetch latency over batching.
      {"fetch.wait.max.ms", "100"},
  };
  if (options.on_stats) {
    properties.emplace_back("statistics.interval.ms",
                            std::to_string(absl::ToInt64Milliseconds(options.stats_interval)));
  }
  for (const auto& [name, value] : options.extra) properties.emplace_back(name, value);
  for (const auto& [name, value] : properties) {
    if (absl::Status s = SetConf(*conf, name, value); !s.ok()) return s;
  }
  std::string error;
  if (options.on_stats) conf->set("event_cb", static_cast<RdKafka::EventCb*>(&Forwarder()), error);
  Connection connection;
  connection.consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  RdKafka::KafkaConsumer* consumer = connection.consumer.get();
  if (consumer == nullptr) {
    return absl::UnavailableError(absl::StrCat("kafka consumer: ", error));
  }

  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer, topic, nullptr, error));
  if (handle == nullptr) {
    consumer->close();
    return absl::InternalError(absl::StrCat("kafka topic handle: ", error));
  }
  RdKafka::Metadata* raw = nullptr;
  RdKafka::ErrorCode err =
      consumer->metadata(false, handle.get(), &raw, TimeoutMs(metadata_timeout));
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR) {
    consumer->close();
    return absl::UnavailableError(absl::StrCat("kafka metadata for ", topic, ": ", RdKafka::err2str(err)));
  }
  int32_t partitions = 0;
  for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
    if (t->topic() != topic) continue;
    if (t->err() != RdKafka::ERR_NO_ERROR) {
      consumer->close();
      return absl::UnavailableError(
          absl::StrCat("topic ", topic, " not available: ", RdKafka::err2str(t->err())));
    }
    partitions = static_cast<int32_t>(t->partitions()->size());
  }
  if (partitions == 0) {
    consumer->close();
    return absl::UnavailableError(absl::StrCat("topic ", topic, " has no partitions yet"));
  }
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    err = consumer->query_watermark_offsets(topic, p, &low, &high, TimeoutMs(metadata_timeout));
    if (err != RdKafka::ERR_NO_ERROR) {
      consumer->close();
      return absl::UnavailableError(absl::StrCat("kafka watermarks of ", topic, ": ", RdKafka::err2str(err)));
    }
    connection.watermarks.emplace_back(low, high);
  }
  return connection;
}

}  // namespace

absl::StatusOr<Cursor> AfleveringReader::EndOffsets(const kafka::ClientOptions& options,
                                                    const std::string& topic,
                                                    absl::Duration metadata_timeout) {
  absl::StatusOr<Connection> connection = Connect(options, topic, metadata_timeout);
  if (!connection.ok()) return connection.status();
  connection->consumer->close();
  Cursor end;
  for (size_t p = 0; p < connection->watermarks.size(); ++p) {
    end.next_offsets[static_cast<int32_t>(p)] = connection->watermarks[p].second;
  }
  return end;
}

absl::StatusOr<std::unique_ptr<AfleveringReader>> AfleveringReader::Open(
    const kafka::ClientOptions& options, const std::string& topic, const Cursor& start,
    absl::Duration metadata_timeout, int64_t lookback) {
  absl::StatusOr<Connection> connection = Connect(options, topic, metadata_timeout);
  if (!connection.ok()) return connection.status();
  std::unique_ptr<RdKafka::KafkaConsumer> consumer = std::move(connection->consumer);
  const int32_t partitions = static_cast<int32_t>(connection->watermarks.size());

  // A cursor offset outside the partition's log (deleted by retention, or a
  // topic recreated) would be skipped silently by a reset: OUT_OF_RANGE with
  // the earliest valid cursor instead.
  Cursor earliest;
  std::vector<std::string> gone;
  for (int32_t p = 0; p < partitions; ++p) {
    const auto [low, high] = connection->watermarks[p];
    earliest.next_offsets[p] = low;
    auto it = start.next_offsets.find(p);
    if (it == start.next_offsets.end()) continue;
    if (it->second < low) {
      gone.push_back(absl::StrCat("partition ", p, ": ", low - it->second, " signals before offset ", low));
    } else if (it->second > high) {
      gone.push_back(absl::StrCat("partition ", p, ": cursor ", it->second, " is past the end ", high));
    }
  }
  if (!gone.empty()) {
    consumer->close();
    return absl::OutOfRangeError(absl::StrCat(
        "the cursor points at signals that are no longer kept (", absl::StrJoin(gone, "; "),
        "); the earliest valid cursor is \"", EncodeCursor(earliest),
        "\"; ask for a re-delivery of what is missing before resuming there"));
  }

  std::vector<RdKafka::TopicPartition*> assignment;
  for (int32_t p = 0; p < partitions; ++p) {
    auto it = start.next_offsets.find(p);
    int64_t offset = RdKafka::Topic::OFFSET_BEGINNING;
    if (it != start.next_offsets.end()) {
      offset = std::max(connection->watermarks[p].first, it->second - std::max<int64_t>(lookback, 0));
    }
    assignment.push_back(RdKafka::TopicPartition::create(topic, p, offset));
  }
  RdKafka::ErrorCode err = consumer->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (err != RdKafka::ERR_NO_ERROR) {
    consumer->close();
    return absl::UnavailableError(absl::StrCat("kafka assign: ", RdKafka::err2str(err)));
  }
  return std::unique_ptr<AfleveringReader>(
      new RdKafkaAfleveringReader(std::move(consumer), partitions));
}

ReaderSource ReaderSource::Kafka(const kafka::ClientOptions& options, const std::string& topic,
                                 absl::Duration metadata_timeout) {
  ReaderSource source;
  source.open = [options, topic, metadata_timeout](const Cursor& start, int64_t lookback) {
    return AfleveringReader::Open(options, topic, start, metadata_timeout, lookback);
  };
  source.end = [options, topic, metadata_timeout] {
    return AfleveringReader::EndOffsets(options, topic, metadata_timeout);
  };
  return source;
}

}  // namespace inbeeld::delivery

#include "inbeeld/kafka/kafka_metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "inbeeld/observability/metrics.h"
#include "src/internal.h"

namespace inbeeld::kafka {
namespace {

struct KafkaMetrics {
  prometheus::Family<prometheus::Gauge>& lag =
      prometheus::BuildGauge()
          .Name("inbeeld_kafka_consumer_lag_messages")
          .Help("Consumer lag per assigned partition, from librdkafka statistics.")
          .Register(observability::Registry());
  prometheus::Gauge& queue = prometheus::BuildGauge()
                                 .Name("inbeeld_kafka_producer_queue_messages")
                                 .Help("Messages in the producer queue awaiting delivery.")
                                 .Register(observability::Registry())
                                 .Add({});
  prometheus::Family<prometheus::Gauge>& rtt =
      prometheus::BuildGauge()
          .Name("inbeeld_kafka_broker_rtt_seconds")
          .Help("Average broker round-trip time, from librdkafka statistics.")
          .Register(observability::Registry());
  prometheus::Family<prometheus::Counter>& dlq =
      prometheus::BuildCounter()
          .Name("inbeeld_kafka_dlq_records_total")
          .Help("Records sent to a dead-letter topic, by source topic.")
          .Register(observability::Registry());
  prometheus::Family<prometheus::Counter>& lost =
      prometheus::BuildCounter()
          .Name("inbeeld_kafka_records_lost_total")
          .Help("Records gone from a partition (retention, deletion) before this consumer processed them; "
                "the partition is stopped. By topic.")
          .Register(observability::Registry());
};

KafkaMetrics& Metrics() {
  static auto* m = new KafkaMetrics();
  return *m;
}

}  // namespace

void ExportStats(const KafkaStats& stats) {
  auto& m = Metrics();
  m.queue.Set(static_cast<double>(stats.producer_queue_messages));
  for (const auto& [broker, seconds] : stats.broker_rtt_seconds) {
    m.rtt.Add({{"broker", broker}}).Set(seconds);
  }
  for (const auto& [tp, lag] : stats.consumer_lag) {
    if (lag < 0) continue;
    m.lag.Add({{"topic", tp.first}, {"partition", std::to_string(tp.second)}}).Set(static_cast<double>(lag));
  }
}

void ExportStatsJson(const std::string& json) { ExportStats(internal::ParseStats(json)); }

void CountDlqRecord(std::string_view source_topic) {
  Metrics().dlq.Add({{"topic", std::string(source_topic)}}).Increment();
}

void InitLostRecords(std::string_view topic) { Metrics().lost.Add({{"topic", std::string(topic)}}); }

void CountLostRecords(std::string_view topic, int64_t records) {
  Metrics().lost.Add({{"topic", std::string(topic)}}).Increment(static_cast<double>(records));
}

void DeclareDlqSource(std::string_view source_topic) { Metrics().dlq.Add({{"topic", std::string(source_topic)}}); }

absl::StatusOr<std::map<std::string, std::string>> ParseKafkaConfig(std::string_view text) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  for (absl::string_view item : absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipEmpty())) {
    auto eq = item.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--kafka-config item must be key=value: ", item));
    }
    out[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
  }
  return out;
}

}  // namespace inbeeld::kafka

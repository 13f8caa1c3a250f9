#pragma once
// Turns librdkafka statistics into Prometheus gauges, and parses the
// --kafka-config flag (extra librdkafka properties for a real cluster).
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "inbeeld/kafka/kafka.h"

namespace inbeeld::kafka {

// Sets inbeeld_kafka_consumer_lag_messages{topic,partition},
// inbeeld_kafka_producer_queue_messages and inbeeld_kafka_broker_rtt_seconds{broker}.
// Use as ClientOptions::on_stats.
void ExportStats(const KafkaStats& stats);

// The same from librdkafka's raw statistics JSON (for code that talks to
// librdkafka directly, like delivery's per-subscriber readers).
void ExportStatsJson(const std::string& json);

// Counts a record sent to a DLQ: inbeeld_kafka_dlq_records_total{topic}.
void CountDlqRecord(std::string_view source_topic);

// inbeeld_kafka_records_lost_total{topic}: records a consumer found gone
// before it read them. InitLostRecords creates the series at 0.
void InitLostRecords(std::string_view topic);
void CountLostRecords(std::string_view topic, int64_t records);
// Creates inbeeld_kafka_dlq_records_total{topic} at 0 for a topic whose
// records may be dead-lettered: the DLQ panel and alert then have a series
// (and increase() a baseline) before the first poison record.
void DeclareDlqSource(std::string_view source_topic);

// "security.protocol=SASL_SSL,sasl.mechanism=PLAIN" → map. Values may not hold commas.
absl::StatusOr<std::map<std::string, std::string>> ParseKafkaConfig(std::string_view text);

}  // namespace inbeeld::kafka

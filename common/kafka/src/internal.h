#pragma once
// Helpers shared by the librdkafka wrappers (not a public header).
#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "inbeeld/kafka/kafka.h"

namespace inbeeld::kafka::internal {

// Maps a librdkafka error to a Status: retriable transport problems become
// UNAVAILABLE so that callers (and gRPC clients) know to retry.
inline absl::Status ToStatus(RdKafka::ErrorCode err, std::string_view context) {
  if (err == RdKafka::ERR_NO_ERROR) return absl::OkStatus();
  std::string msg = std::string(context) + ": " + RdKafka::err2str(err);
  switch (err) {
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__MSG_TIMED_OUT:
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR__QUEUE_FULL:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
      return absl::UnavailableError(msg);
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::NotFoundError(msg);
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
      return absl::ResourceExhaustedError(msg);
    case RdKafka::ERR__FATAL:
    case RdKafka::ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
      // The producer failed fatally and replaces itself (producer.cc): produce the record again. The idempotent
      // producer's "out of order sequence number" after a leader change is that fatal error (librdkafka #4438);
      // the records of the refused request fail with it.
    case RdKafka::ERR__PURGE_QUEUE:
    case RdKafka::ERR__PURGE_INFLIGHT:
      // Purged unacknowledged from a producer that was retired (replaced after a fatal error, or destroyed): Kafka
      // never confirmed it, so it is produced again, with the same id, like any record that was not acknowledged.
      return absl::AbortedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

// The kind of librdkafka handle a configuration is for (an admin handle is a producer handle).
enum class ClientKind { kProducer, kConsumer };

// Builds a librdkafka configuration from the common client options. A service takes one --kafka-config for
// all of its clients: an extra property that librdkafka defines for the other kind only (fetch.wait.max.ms for a
// producer, linger.ms for a consumer) is left out, where librdkafka would ignore it with a CONFWARN warning at
// every start. Unknown properties still fail.
absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(const ClientOptions& options, ClientKind kind,
                                                         const std::map<std::string, std::string>& defaults);

// Whether librdkafka applies the property to a client of this kind, from librdkafka's own property table
// (rd_kafka_conf_properties_show: C consumer only, P producer only, * both). Unknown names apply (and fail when
// set, naming the property).
bool PropertyAppliesTo(std::string_view name, ClientKind kind);

// A consumed message as an InRecord (key, value, headers, position).
InRecord ToInRecord(RdKafka::Message& msg);

// Parses librdkafka's statistics JSON.
KafkaStats ParseStats(const std::string& json);

// Forwards statistics and logs errors; never throws.
class EventForwarder final : public RdKafka::EventCb {
 public:
  explicit EventForwarder(StatsCallback on_stats) : on_stats_(std::move(on_stats)) {}
  void event_cb(RdKafka::Event& event) override;

 private:
  StatsCallback on_stats_;
};

}  // namespace inbeeld::kafka::internal

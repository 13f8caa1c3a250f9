#pragma once
// librdkafka's mock cluster with its fault injection, for tests only: this
// library lives under tests/ and no service binary links it, so no fault hook
// is reachable in production. The cluster runs inside the test process; the
// services under test are real processes that reach it over TCP, and the
// test changes the brokers' behaviour while they run.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "inbeeld/kafka/kafka.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace inbeeld::faults {

// Kafka protocol request types (ApiKey) the tests fail on purpose.
enum class Request : int16_t {
  kProduce = 0,
  kFetch = 1,
  kOffsetCommit = 8,
};

class FaultyCluster {
 public:
  // Brokers are numbered 1..brokers.
  static absl::StatusOr<std::unique_ptr<FaultyCluster>> Start(int brokers);
  ~FaultyCluster();

  std::string bootstrap_servers() const { return bootstraps_; }
  absl::Status CreateTopics(const std::vector<kafka::TopicSpec>& topics);

  // The next `count` requests of this type (from any client, to any broker)
  // fail with `error` (an rd_kafka_resp_err_t), one each.
  void FailNextRequests(Request request, int count, int error);
  // Drops errors still queued for `request`.
  void ClearRequestErrors(Request request);
  // Disconnects every client and refuses connections (-1: every broker).
  absl::Status SetBrokerDown(int32_t broker);
  absl::Status SetBrokerUp(int32_t broker);
  // Delays every response of the broker (-1: every broker) by `rtt_ms`.
  absl::Status SetRoundTrip(int32_t broker, int rtt_ms);
  absl::Status SetLeader(const std::string& topic, int32_t partition, int32_t broker);

 private:
  FaultyCluster() = default;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace inbeeld::faults

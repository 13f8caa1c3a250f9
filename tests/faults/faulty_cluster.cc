// rdkafka_mock.h must be included after rdkafka.h.
#include <librdkafka/rdkafka.h>
// clang-format off
#include <librdkafka/rdkafka_mock.h>
// clang-format on

#include "absl/strings/str_cat.h"
#include "faulty_cluster.h"

namespace inbeeld::faults {
namespace {

absl::Status Check(rd_kafka_resp_err_t err, const std::string& what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("mock ", what, ": ", rd_kafka_err2str(err)));
}

// The mock logs every injected failure at warning level: keep the test output
// readable (the services' own logs are what the tests look at).
void Quiet(const rd_kafka_t*, int, const char*, const char*) {}

}  // namespace

absl::StatusOr<std::unique_ptr<FaultyCluster>> FaultyCluster::Start(int brokers) {
  std::unique_ptr<FaultyCluster> c(new FaultyCluster());
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "test.mock.num.brokers", std::to_string(brokers).c_str(), errstr, sizeof(errstr));
  rd_kafka_conf_set_log_cb(conf, Quiet);
  c->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (c->rk_ == nullptr) return absl::InternalError(absl::StrCat("mock cluster handle: ", errstr));
  c->cluster_ = rd_kafka_handle_mock_cluster(c->rk_);
  if (c->cluster_ == nullptr) return absl::InternalError("cannot start the mock Kafka cluster");
  c->bootstraps_ = rd_kafka_mock_cluster_bootstraps(c->cluster_);
  return c;
}

FaultyCluster::~FaultyCluster() {
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

absl::Status FaultyCluster::CreateTopics(const std::vector<kafka::TopicSpec>& topics) {
  for (const auto& t : topics) {
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, t.name.c_str(), t.partitions, t.replication_factor);
    if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      if (auto s = Check(err, "topic " + t.name); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

void FaultyCluster::FailNextRequests(Request request, int count, int error) {
  std::vector<rd_kafka_resp_err_t> errors(count, static_cast<rd_kafka_resp_err_t>(error));
  rd_kafka_mock_push_request_errors_array(cluster_, static_cast<int16_t>(request), errors.size(), errors.data());
}

void FaultyCluster::ClearRequestErrors(Request request) {
  rd_kafka_mock_clear_request_errors(cluster_, static_cast<int16_t>(request));
}

absl::Status FaultyCluster::SetBrokerDown(int32_t broker) {
  return Check(rd_kafka_mock_broker_set_down(cluster_, broker), "broker down");
}

absl::Status FaultyCluster::SetBrokerUp(int32_t broker) {
  return Check(rd_kafka_mock_broker_set_up(cluster_, broker), "broker up");
}

absl::Status FaultyCluster::SetRoundTrip(int32_t broker, int rtt_ms) {
  return Check(rd_kafka_mock_broker_set_rtt(cluster_, broker, rtt_ms), "broker rtt");
}

absl::Status FaultyCluster::SetLeader(const std::string& topic, int32_t partition, int32_t broker) {
  return Check(rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker), "leader");
}

}  // namespace inbeeld::faults

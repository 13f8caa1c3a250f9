// librdkafka's mock cluster hosted in this process. rdkafka_mock.h must be
// included after rdkafka.h.
#include <librdkafka/rdkafka.h>
// clang-format off
#include <librdkafka/rdkafka_mock.h>
// clang-format on

#include "absl/strings/str_cat.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/util/log.h"

namespace inbeeld::kafka {
namespace {

// librdkafka's own log lines become JSON log lines like everything else.
void LogToJson(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  const std::string msg = absl::StrCat("kafka mock: ", fac, ": ", buf);
  if (level <= 3) {
    util::LogError(msg);
  } else if (level <= 4) {
    util::LogWarn(msg);
  } else {
    util::LogDebug(msg);
  }
}

class MockCluster final : public EmbeddedCluster {
 public:
  ~MockCluster() override {
    // The cluster belongs to the handle: destroying the handle stops it.
    if (rk_) rd_kafka_destroy(rk_);
  }

  absl::Status Init(int brokers) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The handle creates and owns the mock cluster (and talks only to it).
    rd_kafka_conf_set(conf, "test.mock.num.brokers", std::to_string(brokers).c_str(), errstr, sizeof(errstr));
    rd_kafka_conf_set_log_cb(conf, LogToJson);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk_ == nullptr) return absl::InternalError(absl::StrCat("mock cluster handle: ", errstr));
    cluster_ = rd_kafka_handle_mock_cluster(rk_);
    if (cluster_ == nullptr) return absl::InternalError("cannot start the mock Kafka cluster");
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    return absl::OkStatus();
  }

  std::string bootstrap_servers() const override { return bootstraps_; }

  absl::Status CreateTopics(const std::vector<TopicSpec>& topics) override {
    for (const auto& t : topics) {
      // The mock has no compaction: a compacted topic is a plain topic here.
      rd_kafka_resp_err_t err =
          rd_kafka_mock_topic_create(cluster_, t.name.c_str(), t.partitions, t.replication_factor);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        return absl::InternalError(absl::StrCat("mock topic ", t.name, ": ", rd_kafka_err2str(err)));
      }
    }
    return absl::OkStatus();
  }

  void FailProduceRequests(int count) override {
    std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(count), RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    rd_kafka_mock_push_request_errors_array(cluster_, 0 /* Produce */, errors.size(), errors.data());
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::Start(int brokers) {
  auto c = std::make_unique<MockCluster>();
  if (auto s = c->Init(brokers); !s.ok()) return s;
  return std::unique_ptr<EmbeddedCluster>(std::move(c));
}

}  // namespace inbeeld::kafka

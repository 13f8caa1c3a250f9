// Topic administration through librdkafka's C Admin API (the C++ API has none).
#include <librdkafka/rdkafka.h>

#include "inbeeld/kafka/topics.h"
#include "src/internal.h"

namespace inbeeld::kafka {

absl::StatusOr<int32_t> PartitionCount(const ClientOptions& options, std::string_view topic,
                                       absl::Duration timeout) {
  auto conf = internal::MakeConf(options, {});
  if (!conf.ok()) return conf.status();
  std::string err;
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf->get(), err));
  if (!p) return absl::InvalidArgumentError(err);
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(p.get(), std::string(topic), nullptr, err));
  RdKafka::Metadata* md = nullptr;
  RdKafka::ErrorCode e =
      p->metadata(false, t.get(), &md, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (e != RdKafka::ERR_NO_ERROR) return internal::ToStatus(e, "kafka metadata");
  std::unique_ptr<RdKafka::Metadata> owned(md);
  for (const auto* tm : *md->topics()) {
    if (tm->topic() == topic) {
      if (tm->err() != RdKafka::ERR_NO_ERROR) return internal::ToStatus(tm->err(), "kafka topic");
      return static_cast<int32_t>(tm->partitions()->size());
    }
  }
  return absl::NotFoundError(absl::StrCat("topic ", std::string(topic), " not found"));
}

absl::Status CreateTopics(const ClientOptions& options, const std::vector<TopicSpec>& topics,
                          absl::Duration timeout) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", options.bootstrap_servers.c_str(), errstr,
                        sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(errstr);
  }
  for (const auto& [k, v] : options.extra) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(errstr);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) return absl::InvalidArgumentError(errstr);
  std::vector<rd_kafka_NewTopic_t*> news;
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions,
                                                    t.replication_factor, errstr, sizeof(errstr));
    if (nt == nullptr) {
      for (auto* n : news) rd_kafka_NewTopic_destroy(n);
      rd_kafka_destroy(rk);
      return absl::InvalidArgumentError(errstr);
    }
    if (t.compacted) rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    news.push_back(nt);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, static_cast<int>(absl::ToInt64Milliseconds(timeout)),
                                              errstr, sizeof(errstr));
  rd_kafka_CreateTopics(rk, news.data(), news.size(), opts, queue);
  absl::Status result = absl::OkStatus();
  rd_kafka_event_t* ev =
      rd_kafka_queue_poll(queue, static_cast<int>(absl::ToInt64Milliseconds(timeout)) + 1000);
  if (ev == nullptr) {
    result = absl::UnavailableError("kafka CreateTopics timed out");
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    result = absl::UnavailableError(absl::StrCat("kafka CreateTopics: ", rd_kafka_event_error_string(ev)));
  } else {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n && result.ok(); ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        result = absl::InternalError(absl::StrCat("create topic ", rd_kafka_topic_result_name(results[i]),
                                                  ": ", rd_kafka_err2str(e)));
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(queue);
  for (auto* n : news) rd_kafka_NewTopic_destroy(n);
  rd_kafka_destroy(rk);
  return result;
}

std::vector<TopicSpec> InBeeldTopics(int32_t partitions, int16_t replication_factor) {
  std::vector<TopicSpec> specs;
  auto add = [&](std::string_view name, bool compacted) {
    specs.push_back({std::string(name), partitions, replication_factor, compacted});
  };
  for (auto t : kEventTopics) {
    add(t, false);
    add(DlqTopic(t), false);
  }
  add(kTopicSignalen, false);
  add(DlqTopic(kTopicSignalen), false);
  add(kTopicSignalingChangelog, true);
  add(kTopicAflevering, false);
  add(kTopicOrganisaties, true);
  return specs;
}

}  // namespace inbeeld::kafka

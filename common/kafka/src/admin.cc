// Topic administration through librdkafka's C Admin API (the C++ API has none).
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "inbeeld/kafka/topics.h"
#include "src/internal.h"

namespace inbeeld::kafka {

namespace {

// A client handle for metadata and watermark queries.
absl::StatusOr<std::unique_ptr<RdKafka::Producer>> QueryClient(const ClientOptions& options) {
  auto conf = internal::MakeConf(options, internal::ClientKind::kProducer, {});
  if (!conf.ok()) return conf.status();
  std::string err;
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf->get(), err));
  if (!p) return absl::InvalidArgumentError(err);
  return p;
}

absl::StatusOr<int32_t> PartitionCountWith(RdKafka::Producer& p, std::string_view topic, absl::Duration timeout) {
  std::string err;
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(&p, std::string(topic), nullptr, err));
  RdKafka::Metadata* md = nullptr;
  RdKafka::ErrorCode e = p.metadata(false, t.get(), &md, TimeoutMs(timeout));
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

}  // namespace

absl::StatusOr<int32_t> PartitionCount(const ClientOptions& options, std::string_view topic,
                                       absl::Duration timeout) {
  auto p = QueryClient(options);
  if (!p.ok()) return p.status();
  return PartitionCountWith(**p, topic, timeout);
}

absl::StatusOr<std::vector<int64_t>> EndOffsets(const ClientOptions& options, std::string_view topic,
                                                absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  auto p = QueryClient(options);
  if (!p.ok()) return p.status();
  // One deadline for the metadata and every partition's query.
  auto left = [&] { return std::max(deadline - absl::Now(), absl::ZeroDuration()); };
  absl::StatusOr<int32_t> partitions = PartitionCountWith(**p, topic, left());
  if (!partitions.ok()) return partitions.status();
  std::vector<int64_t> ends;
  for (int32_t partition = 0; partition < *partitions; ++partition) {
    int64_t low = 0, high = 0;
    const RdKafka::ErrorCode e =
        (*p)->query_watermark_offsets(std::string(topic), partition, &low, &high, TimeoutMs(left()));
    if (e != RdKafka::ERR_NO_ERROR) return internal::ToStatus(e, "kafka watermarks");
    ends.push_back(high);
  }
  return ends;
}

namespace {

// An Admin-capable client handle; destroyed with its owner.
struct AdminHandle {
  rd_kafka_t* rk = nullptr;
  ~AdminHandle() {
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

absl::Status OpenAdmin(const ClientOptions& options, AdminHandle* handle) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& k, const std::string& v) {
    return rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK;
  };
  // The Status carries the failure; librdkafka's own connection-refused lines would only repeat it.
  bool ok = set("bootstrap.servers", options.bootstrap_servers) && set("log_level", "2");
  for (const auto& [k, v] : options.extra) {
    if (internal::PropertyAppliesTo(k, internal::ClientKind::kProducer)) ok = ok && set(k, v);
  }
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(errstr);
  }
  handle->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (handle->rk == nullptr) return absl::InvalidArgumentError(errstr);
  return absl::OkStatus();
}

// Partition count of every topic in the cluster.
absl::StatusOr<std::map<std::string, int32_t>> ExistingTopics(rd_kafka_t* rk, const ClientOptions& options,
                                                              absl::Duration timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, nullptr, &md, TimeoutMs(timeout));
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka at ", options.bootstrap_servers, " did not answer within ",
                                               absl::FormatDuration(timeout), ": ", rd_kafka_err2str(e)));
  }
  std::map<std::string, int32_t> topics;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      topics[md->topics[i].topic] = md->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return topics;
}

// Refuses a topic that exists with another partition count than InBeeld needs: co-partitioning (and the DLQ
// write to the source's partition number) would silently break.
absl::Status CheckPartitionCounts(const std::vector<TopicSpec>& topics,
                                  const std::map<std::string, int32_t>& existing) {
  for (const auto& t : topics) {
    auto it = existing.find(t.name);
    if (it != existing.end() && it->second != t.partitions) {
      return absl::FailedPreconditionError(absl::StrCat("topic ", t.name, " exists with ", it->second,
                                                        " partitions, InBeeld needs ", t.partitions,
                                                        " (partition counts cannot change in place)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CreateMissing(rd_kafka_t* rk, const std::vector<const TopicSpec*>& missing, absl::Duration timeout) {
  char errstr[512];
  std::vector<rd_kafka_NewTopic_t*> news;
  auto destroy_news = [&] {
    for (auto* n : news) rd_kafka_NewTopic_destroy(n);
  };
  for (const TopicSpec* t : missing) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(t->name.c_str(), t->partitions, t->replication_factor, errstr, sizeof(errstr));
    if (nt == nullptr) {
      destroy_news();
      return absl::InvalidArgumentError(errstr);
    }
    news.push_back(nt);
    if (t->compacted) rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(opts, TimeoutMs(timeout), errstr, sizeof(errstr));
  rd_kafka_AdminOptions_set_operation_timeout(opts, TimeoutMs(timeout), errstr, sizeof(errstr));
  rd_kafka_CreateTopics(rk, news.data(), news.size(), opts, queue);
  absl::Status result = absl::OkStatus();
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, TimeoutMs(timeout) + 1000);
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
      // Created meanwhile by someone else: CheckPartitionCounts afterwards judges it.
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* msg = rd_kafka_topic_result_error_string(results[i]);
        result = absl::InternalError(absl::StrCat("create topic ", rd_kafka_topic_result_name(results[i]), ": ",
                                                  msg != nullptr ? msg : rd_kafka_err2str(e)));
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(queue);
  destroy_news();
  return result;
}

}  // namespace

absl::Status CreateTopics(const ClientOptions& options, const std::vector<TopicSpec>& topics,
                          absl::Duration timeout) {
  AdminHandle admin;
  if (auto s = OpenAdmin(options, &admin); !s.ok()) return s;
  auto existing = ExistingTopics(admin.rk, options, timeout);
  if (!existing.ok()) return existing.status();
  // Refuse before creating anything: nothing half-done.
  if (auto s = CheckPartitionCounts(topics, *existing); !s.ok()) return s;
  std::vector<const TopicSpec*> missing;
  for (const auto& t : topics) {
    if (!existing->contains(t.name)) missing.push_back(&t);
  }
  if (missing.empty()) return absl::OkStatus();
  if (auto s = CreateMissing(admin.rk, missing, timeout); !s.ok()) return s;
  // A topic created concurrently by another tool may have another count; and metadata lags creation briefly.
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    auto after = ExistingTopics(admin.rk, options, timeout);
    if (!after.ok()) return after.status();
    if (auto s = CheckPartitionCounts(topics, *after); !s.ok()) return s;
    bool all = true;
    for (const TopicSpec* t : missing) all = all && after->contains(t->name);
    if (all) return absl::OkStatus();
    if (absl::Now() > deadline) return absl::DeadlineExceededError("created topics did not appear in metadata");
    absl::SleepFor(absl::Milliseconds(100));
  }
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
  // One partition keeps the organisation table in order (as deploy/kafka/create-topics.sh creates it).
  specs.push_back({std::string(kTopicOrganisaties), 1, replication_factor, true});
  return specs;
}

}  // namespace inbeeld::kafka

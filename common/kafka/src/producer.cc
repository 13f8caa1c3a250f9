#include <atomic>
#include <future>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/util/log.h"
#include "src/internal.h"

namespace inbeeld::kafka {
namespace {

using DeliveryFn = std::function<void(const DeliveryReport&)>;

class ProducerImpl final : public Producer, public RdKafka::DeliveryReportCb {
 public:
  explicit ProducerImpl(const ClientOptions& options) : events_(options.on_stats) {}

  absl::Status Init(const ClientOptions& options) {
    auto conf = internal::MakeConf(options, {
                                                {"acks", "all"},
                                                {"enable.idempotence", "true"},
                                                {"linger.ms", "5"},
                                                // Java-compatible key → partition mapping.
                                                {"partitioner", "murmur2_random"},
                                                {"message.timeout.ms", "30000"},
                                            });
    if (!conf.ok()) return conf.status();
    std::string err;
    (*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), err);
    (*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(&events_), err);
    producer_.reset(RdKafka::Producer::create(conf->get(), err));
    if (!producer_) return absl::InvalidArgumentError(absl::StrCat("kafka producer: ", err));
    poller_ = std::thread([this] {
      while (!stop_.load()) producer_->poll(50);
    });
    return absl::OkStatus();
  }

  ~ProducerImpl() override {
    // Callers flush within their own shutdown budget; this is a last short try.
    if (producer_) producer_->flush(500);
    stop_ = true;
    if (poller_.joinable()) poller_.join();
    if (producer_) {
      // Records Kafka never acknowledged (a broker down at shutdown): fail
      // them, and serve their delivery reports, so that every callback runs
      // once (with the error) and is freed. librdkafka's destroy drops them
      // without a report: the callbacks leaked and never ran.
      producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
      producer_->flush(1000);
    }
  }

  void dr_cb(RdKafka::Message& message) override {
    auto* fn = static_cast<DeliveryFn*>(message.msg_opaque());
    DeliveryReport report;
    report.status = internal::ToStatus(message.err(), "kafka delivery");
    report.topic = message.topic_name();
    report.partition = message.partition();
    report.offset = message.offset();
    if (!report.status.ok()) {
      absl::MutexLock lock(&mu_);
      if (first_failure_.ok()) first_failure_ = report.status;
    }
    if (fn != nullptr) {
      (*fn)(report);
      delete fn;
    }
  }

  absl::Status Produce(OutRecord record, DeliveryFn on_delivery) override {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& h : record.headers) headers->add(h.key, h.value.data(), h.value.size());
    auto* fn = new DeliveryFn(std::move(on_delivery));
    RdKafka::ErrorCode err = producer_->produce(
        record.topic, record.partition, RdKafka::Producer::RK_MSG_COPY,
        const_cast<char*>(record.value.data()), record.value.size(), record.key.data(),
        record.key.size(), 0, headers, fn);
    if (err != RdKafka::ERR_NO_ERROR) {
      delete headers;  // ownership passes to librdkafka only on success
      delete fn;
      return internal::ToStatus(err, "kafka produce");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<DeliveryReport> ProduceSync(OutRecord record, absl::Duration timeout) override {
    auto promise = std::make_shared<std::promise<DeliveryReport>>();
    auto future = promise->get_future();
    if (auto s = Produce(std::move(record), [promise](const DeliveryReport& r) { promise->set_value(r); });
        !s.ok()) {
      return s;
    }
    if (future.wait_for(absl::ToChronoMilliseconds(timeout)) != std::future_status::ready) {
      // The record may still be delivered later; the caller was not told it
      // was, so a retry (same deterministic id) is safe and deduplicated.
      return absl::UnavailableError("kafka did not acknowledge the record in time");
    }
    DeliveryReport report = future.get();
    if (!report.status.ok()) return report.status;
    return report;
  }

  absl::Status Flush(absl::Duration timeout) override {
    RdKafka::ErrorCode err = producer_->flush(static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    absl::MutexLock lock(&mu_);
    absl::Status failure = first_failure_;
    first_failure_ = absl::OkStatus();
    if (!failure.ok()) return failure;
    if (err == RdKafka::ERR__TIMED_OUT) {
      return absl::DeadlineExceededError("kafka flush timed out: records not yet acknowledged");
    }
    return internal::ToStatus(err, "kafka flush");
  }

  int OutstandingMessages() const override { return producer_->outq_len(); }

 private:
  internal::EventForwarder events_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::thread poller_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  absl::Status first_failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(const ClientOptions& options) {
  auto p = std::make_unique<ProducerImpl>(options);
  if (auto s = p->Init(options); !s.ok()) return s;
  return std::unique_ptr<Producer>(std::move(p));
}

// Java's murmur2 as librdkafka's murmur2_random uses it (seed 0x9747b28c).
int32_t PartitionForKey(std::string_view key, int32_t partition_count) {
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const size_t len = key.size();
  uint32_t h = seed ^ static_cast<uint32_t>(len);
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    uint32_t k = static_cast<uint32_t>(data[i]) | (static_cast<uint32_t>(data[i + 1]) << 8) |
                 (static_cast<uint32_t>(data[i + 2]) << 16) | (static_cast<uint32_t>(data[i + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (len & 3) {
    case 3: h ^= static_cast<uint32_t>(data[i + 2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<uint32_t>(data[i + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= data[i];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>((h & 0x7fffffff) % static_cast<uint32_t>(partition_count));
}

}  // namespace inbeeld::kafka

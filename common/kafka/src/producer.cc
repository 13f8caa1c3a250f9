#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include <librdkafka/rdkafka.h>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/util/log.h"
#include "src/internal.h"

namespace inbeeld::kafka {
namespace {

using DeliveryFn = std::function<void(const DeliveryReport&)>;

// A librdkafka producer, the thread that serves its callbacks, and its topic
// handles by name. Records go in through the C API with a cached topic handle:
// the C++ wrapper's produce() looks the topic up by name under the client's
// write lock and builds a headers object of its own for every record.
struct Handle {
  ~Handle() {
    // Before the producer (members are destroyed after this body): librdkafka
    // wants every topic handle released before the client is destroyed.
    for (auto& [name, rkt] : topics) rd_kafka_topic_destroy(rkt);
  }

  // The topic handle for `name`, made on first use.
  rd_kafka_topic_t* Topic(std::string_view name) {
    {
      absl::ReaderMutexLock lock(&topics_mu);
      if (auto it = topics.find(absl::string_view(name.data(), name.size())); it != topics.end()) return it->second;
    }
    absl::WriterMutexLock lock(&topics_mu);
    auto [it, inserted] = topics.try_emplace(std::string(name), nullptr);
    if (inserted) it->second = rd_kafka_topic_new(producer->c_ptr(), it->first.c_str(), nullptr);
    if (it->second == nullptr) {
      topics.erase(it);  // rd_kafka_topic_new failed (an invalid name): produce reports it
      return nullptr;
    }
    return it->second;
  }

  std::unique_ptr<RdKafka::Producer> producer;
  std::thread poller;
  std::atomic<bool> stop{false};
  absl::Mutex topics_mu;
  absl::flat_hash_map<std::string, rd_kafka_topic_t*> topics ABSL_GUARDED_BY(topics_mu);
};

// librdkafka's idempotent producer can enter a fatal state after a partition leader change (Debian's 2.0.2: "out
// of order sequence number ... rewound sequence number", librdkafka #4438, fixed upstream in 2.3.0). A fatal
// producer refuses every record until it is destroyed. ProducerImpl then replaces it with a new one (a new producer
// id): the records of the old one fail (ABORTED) and their callers produce them again, as after any failed
// delivery; a repeat carries the same deterministic ids and is deduplicated downstream.
class ProducerImpl final : public Producer {
 public:
  ProducerImpl(const ClientOptions& options, const TransactionOptions& transactions)
      : options_(options), transactions_(transactions), events_(options.on_stats) {}

  absl::Status Init() {
    absl::StatusOr<std::unique_ptr<Handle>> h = NewHandle();
    if (!h.ok()) return h.status();
    absl::WriterMutexLock lock(&handle_mu_);
    handle_ = *std::move(h);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Handle>> NewHandle() {
    std::map<std::string, std::string> defaults = {
        {"acks", "all"},
        {"enable.idempotence", "true"},
        {"linger.ms", "5"},
        // Java-compatible key → partition mapping.
        {"partitioner", "murmur2_random"},
        {"message.timeout.ms", "30000"},
    };
    if (Transactional()) {
      defaults["transactional.id"] = transactions_.transactional_id;
      // librdkafka: message.timeout.ms must not exceed transaction.timeout.ms (60 s by default).
      defaults["message.timeout.ms"] = "30000";
    }
    auto conf = internal::MakeConf(options_, internal::ClientKind::kProducer, defaults);
    if (!conf.ok()) return conf.status();
    std::string err;
    // Delivery reports through the C API too (OnDelivery): the C++ wrapper's dr_cb wraps each in a Message
    // object and copies the topic name into a std::string for it.
    rd_kafka_conf_set_dr_msg_cb((*conf)->c_ptr_global(), &ProducerImpl::OnDelivery);
    (*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(&events_), err);
    auto h = std::make_unique<Handle>();
    h->producer.reset(RdKafka::Producer::create(conf->get(), err));
    if (!h->producer) return absl::InvalidArgumentError(absl::StrCat("kafka producer: ", err));
    Handle* raw = h.get();
    h->poller = std::thread([raw] {
      while (!raw->stop.load()) raw->producer->poll(50);
    });
    if (Transactional()) {
      // Fences every earlier producer with this transactional.id and aborts its open transaction (a crashed
      // predecessor's batch): from here on read_committed readers see past it.
      std::unique_ptr<RdKafka::Error> e(h->producer->init_transactions(TimeoutMs()));
      if (e) {
        const absl::Status s = TransactionError("kafka init_transactions", *e, h->producer.get());
        Retire(std::move(h), 0);
        return s;
      }
    }
    return h;
  }

  // Stops a handle's poller and destroys it. Records Kafka never acknowledged
  // (a broker down at shutdown, a fatal producer): fail them, and serve their
  // delivery reports, so that every callback runs once (with the error) and is
  // freed. librdkafka's destroy drops them without a report: the callbacks
  // leaked and never ran.
  static void Retire(std::unique_ptr<Handle> h, int flush_ms) {
    if (!h) return;
    if (flush_ms > 0) h->producer->flush(flush_ms);
    h->stop = true;
    if (h->poller.joinable()) h->poller.join();
    h->producer->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    h->producer->flush(1000);
  }

  ~ProducerImpl() override {
    absl::WriterMutexLock lock(&handle_mu_);
    // Callers flush within their own shutdown budget; this is a last short try.
    Retire(std::move(handle_), 500);
  }

  // Replaces a producer that librdkafka declared fatal (see the class comment). Idempotent: only the first caller
  // after the fatal error replaces it.
  absl::Status Heal() {
    absl::WriterMutexLock lock(&handle_mu_);
    if (!fatal_.load()) return absl::OkStatus();
    std::string reason;
    const RdKafka::ErrorCode cause = handle_->producer->fatal_error(reason);
    if (Transactional() && IsFenced(cause)) {
      // A newer instance owns this transactional.id: replacing the producer would fence it in turn.
      fenced_ = true;
      return FencedError(reason);
    }
    absl::StatusOr<std::unique_ptr<Handle>> fresh = NewHandle();
    if (!fresh.ok()) return fresh.status();
    std::unique_ptr<Handle> old = std::move(handle_);
    handle_ = *std::move(fresh);
    fatal_ = false;
    Retire(std::move(old), 0);
    util::LogError("kafka producer failed fatally; replaced by a new producer, its unacknowledged records failed",
                   {{"error", RdKafka::err2str(cause)}, {"detail", reason}});
    return absl::OkStatus();
  }

  absl::Status SimulateFatalError(std::string_view reason) override {
    absl::ReaderMutexLock lock(&handle_mu_);
    const rd_kafka_resp_err_t e = rd_kafka_test_fatal_error(handle_->producer->c_ptr(),
                                                            RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                                            std::string(reason).c_str());
    return e == RD_KAFKA_RESP_ERR_NO_ERROR ? absl::OkStatus()
                                           : absl::InternalError("kafka: could not simulate a fatal error");
  }

  // What librdkafka carries for each record it accepted (its msg_opaque), handed back with the delivery report.
  struct InFlightRecord {
    ProducerImpl* self;  // outlives its records: its destructor retires the handle, which reports them all
    DeliveryFn on_delivery;
  };

  // librdkafka's delivery report callback, on the handle's poller thread (or in Retire's flush).
  static void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* /*opaque*/) {
    std::unique_ptr<InFlightRecord> record(static_cast<InFlightRecord*>(message->_private));
    if (record == nullptr) return;
    record->self->Delivered(*message, record->on_delivery);
  }

  void Delivered(const rd_kafka_message_t& message, const DeliveryFn& on_delivery) {
    const auto err = static_cast<RdKafka::ErrorCode>(message.err);
    if (err == RdKafka::ERR__FATAL) fatal_ = true;
    DeliveryReport report;
    report.status = internal::ToStatus(err, "kafka delivery");
    report.topic = rd_kafka_topic_name(message.rkt);
    report.partition = message.partition;
    report.offset = message.offset;
    if (!report.status.ok()) {
      absl::MutexLock lock(&mu_);
      if (first_failure_.ok()) first_failure_ = report.status;
    }
    if (on_delivery) on_delivery(report);
  }

  absl::Status Produce(const OutRecord& record, DeliveryFn on_delivery) override {
    return ProduceOnce(record, std::move(on_delivery), /*may_heal=*/true);
  }

  absl::Status ProduceOnce(const OutRecord& record, DeliveryFn on_delivery, bool may_heal) {
    if (Transactional() && fatal_.load()) {
      // The transaction died with the producer: the caller aborts and begins again (BeginTransaction heals).
      return absl::AbortedError("kafka produce: the transactional producer failed fatally; transaction lost");
    }
    if (fatal_.load()) {
      if (absl::Status s = Heal(); !s.ok()) return s;
    }
    rd_kafka_headers_t* headers = nullptr;
    if (!record.headers.empty()) {
      headers = rd_kafka_headers_new(record.headers.size());
      for (const auto& h : record.headers) {
        rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()), h.value.data(),
                            static_cast<ssize_t>(h.value.size()));
      }
    }
    auto* in_flight = new InFlightRecord{this, std::move(on_delivery)};
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__INVALID_ARG;  // no topic handle: an invalid topic name
    {
      absl::ReaderMutexLock lock(&handle_mu_);
      if (rd_kafka_topic_t* rkt = handle_->Topic(record.topic); rkt != nullptr) {
        err = rd_kafka_producev(
            handle_->producer->c_ptr(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(record.partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
            RD_KAFKA_V_KEY(record.key.data(), record.key.size()), RD_KAFKA_V_HEADERS(headers),
            RD_KAFKA_V_OPAQUE(in_flight), RD_KAFKA_V_END);
      }
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (headers != nullptr) rd_kafka_headers_destroy(headers);  // ownership passes to librdkafka only on success
      on_delivery = std::move(in_flight->on_delivery);
      delete in_flight;
      if (err == RD_KAFKA_RESP_ERR__FATAL && may_heal && !Transactional()) {
        // Refused because the producer is fatal: a new one takes this record.
        fatal_ = true;
        if (absl::Status s = Heal(); !s.ok()) return s;
        return ProduceOnce(record, std::move(on_delivery), /*may_heal=*/false);
      }
      return internal::ToStatus(static_cast<RdKafka::ErrorCode>(err), "kafka produce");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<DeliveryReport> ProduceSync(OutRecord record, absl::Duration timeout) override {
    auto promise = std::make_shared<std::promise<DeliveryReport>>();
    auto future = promise->get_future();
    if (auto s = Produce(record, [promise](const DeliveryReport& r) { promise->set_value(r); });
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
    RdKafka::ErrorCode err;
    {
      absl::ReaderMutexLock lock(&handle_mu_);
      err = handle_->producer->flush(kafka::TimeoutMs(timeout));
    }
    absl::MutexLock lock(&mu_);
    absl::Status failure = first_failure_;
    first_failure_ = absl::OkStatus();
    if (!failure.ok()) return failure;
    if (err == RdKafka::ERR__TIMED_OUT) {
      return absl::DeadlineExceededError("kafka flush timed out: records not yet acknowledged");
    }
    return internal::ToStatus(err, "kafka flush");
  }

  bool Transactional() const override { return !transactions_.transactional_id.empty(); }

  absl::Status BeginTransaction() override {
    if (!Transactional()) return Producer::BeginTransaction();
    if (fenced_.load()) return FencedError("");
    if (fatal_.load()) {
      if (absl::Status s = Heal(); !s.ok()) return s;
    }
    {
      absl::MutexLock lock(&mu_);
      first_failure_ = absl::OkStatus();
    }
    absl::ReaderMutexLock lock(&handle_mu_);
    std::unique_ptr<RdKafka::Error> e(handle_->producer->begin_transaction());
    return e ? TransactionError("kafka begin_transaction", *e, handle_->producer.get()) : absl::OkStatus();
  }

  absl::Status CommitTransaction() override {
    if (!Transactional()) return Producer::CommitTransaction();
    const absl::Time deadline = absl::Now() + transactions_.timeout;
    while (true) {
      // Flushes first: every record of the transaction acknowledged, or the commit fails.
      absl::ReaderMutexLock lock(&handle_mu_);
      std::unique_ptr<RdKafka::Error> e(handle_->producer->commit_transaction(TimeoutMs()));
      if (!e) {
        absl::MutexLock failure_lock(&mu_);
        first_failure_ = absl::OkStatus();
        return absl::OkStatus();
      }
      // Retriable: the outcome is not known yet; committing again is what librdkafka asks for.
      if (e->is_retriable() && !e->is_fatal() && absl::Now() < deadline) continue;
      return TransactionError("kafka commit_transaction", *e, handle_->producer.get());
    }
  }

  absl::Status AbortTransaction() override {
    if (!Transactional()) return Producer::AbortTransaction();
    if (fenced_.load()) return FencedError("");
    // A fatal producer has nothing that can still commit; the next Begin replaces it, and the new producer's
    // init_transactions aborts what the old one left open.
    if (fatal_.load()) return absl::OkStatus();
    {
      absl::MutexLock lock(&mu_);
      first_failure_ = absl::OkStatus();
    }
    absl::ReaderMutexLock lock(&handle_mu_);
    std::unique_ptr<RdKafka::Error> e(handle_->producer->abort_transaction(TimeoutMs()));
    if (!e || e->code() == RdKafka::ERR__STATE) return absl::OkStatus();  // STATE: no transaction open
    const absl::Status s = TransactionError("kafka abort_transaction", *e, handle_->producer.get());
    // Fatal (not fenced): nothing of the transaction can commit; the next Begin replaces the producer.
    return absl::IsAborted(s) && fatal_.load() ? absl::OkStatus() : s;
  }

  int OutstandingMessages() const override {
    absl::ReaderMutexLock lock(&handle_mu_);
    return handle_->producer->outq_len();
  }

 private:
  int TimeoutMs() const { return kafka::TimeoutMs(transactions_.timeout); }

  static bool IsFenced(RdKafka::ErrorCode code) {
    return code == RdKafka::ERR__FENCED || code == RdKafka::ERR_PRODUCER_FENCED ||
           code == RdKafka::ERR_INVALID_PRODUCER_EPOCH;
  }

  absl::Status FencedError(std::string_view detail) const {
    return absl::FailedPreconditionError(
        absl::StrCat("kafka producer fenced: another instance started with transactional.id ",
                     transactions_.transactional_id, "; this one must stop", detail.empty() ? "" : ": ", std::string(detail)));
  }

  // A transactional API error as a Status the caller can act on (see Producer's transaction comment).
  // `producer` is the handle's (the caller holds handle_mu_ or owns the handle).
  absl::Status TransactionError(std::string_view what, const RdKafka::Error& e, RdKafka::Producer* producer) {
    const std::string msg = absl::StrCat(std::string(what), ": ", e.name(), ": ", e.str());
    if (e.is_fatal()) {
      fatal_ = true;
      std::string reason;
      RdKafka::ErrorCode cause = e.code();
      if (cause == RdKafka::ERR__FATAL) cause = producer->fatal_error(reason);
      if (IsFenced(cause) || IsFenced(e.code())) {
        fenced_ = true;
        return FencedError(msg);
      }
      return absl::AbortedError(absl::StrCat(msg, " (fatal: the producer is replaced)"));
    }
    if (e.txn_requires_abort()) return absl::AbortedError(absl::StrCat(msg, " (transaction must be aborted)"));
    if (e.is_retriable()) return absl::UnavailableError(msg);
    if (e.code() == RdKafka::ERR__TIMED_OUT) return absl::DeadlineExceededError(msg);
    return absl::InternalError(msg);
  }

  const ClientOptions options_;
  const TransactionOptions transactions_;
  internal::EventForwarder events_;
  mutable absl::Mutex handle_mu_;
  std::unique_ptr<Handle> handle_ ABSL_GUARDED_BY(handle_mu_);
  std::atomic<bool> fatal_{false};
  std::atomic<bool> fenced_{false};
  absl::Mutex mu_;
  absl::Status first_failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(const ClientOptions& options,
                                                          const TransactionOptions& transactions) {
  auto p = std::make_unique<ProducerImpl>(options, transactions);
  if (auto s = p->Init(); !s.ok()) return s;
  return std::unique_ptr<Producer>(std::move(p));
}

absl::StatusOr<ExactlyOnce> ParseExactlyOnce(std::string_view text) {
  if (text == "idempotent") return ExactlyOnce::kIdempotent;
  if (text == "transactions") return ExactlyOnce::kTransactions;
  return absl::InvalidArgumentError(
      absl::StrCat("--exactly-once must be idempotent (default, any broker) or transactions (Apache Kafka), not '",
                   std::string(text), "'"));
}

std::string TransactionalId(std::string_view service, std::string_view instance) {
  return absl::StrCat(std::string(service), "-", std::string(instance));
}

std::string DefaultInstanceId(std::string_view state_dir) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(std::filesystem::path(state_dir), ec);
  std::string normal = dir.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  // FNV-1a: stable across builds and processes (std::hash need not be).
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : absl::StrCat(host, ":", normal)) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
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

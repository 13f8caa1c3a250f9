#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "inbeeld/util/log.h"
#include "src/internal.h"

namespace inbeeld::kafka {

std::optional<std::string> FindHeader(const Headers& headers, std::string_view key) {
  if (const std::optional<std::string_view> v = FindHeaderView(headers, key)) return std::string(*v);
  return std::nullopt;
}

std::optional<std::string_view> FindHeaderView(const Headers& headers, std::string_view key) {
  for (const auto& h : headers) {
    if (h.key == key) return h.value;
  }
  return std::nullopt;
}

namespace internal {

namespace {

// librdkafka's property table, read once: name -> 'C' (consumer only), 'P' (producer only) or '*' (both).
const absl::flat_hash_map<std::string, char>& PropertyScopes() {
  static const absl::flat_hash_map<std::string, char>* scopes = [] {
    auto* m = new absl::flat_hash_map<std::string, char>();
    char* text = nullptr;
    size_t size = 0;
    FILE* out = open_memstream(&text, &size);
    if (out == nullptr) return m;
    rd_kafka_conf_properties_show(out);
    std::fclose(out);
    // "name | C/P | range | default | importance | description" rows (global and topic tables).
    for (absl::string_view line : absl::StrSplit(absl::string_view(text, size), '\n')) {
      std::vector<absl::string_view> cols = absl::StrSplit(line, '|');
      if (cols.size() < 3) continue;
      absl::string_view name = absl::StripAsciiWhitespace(cols[0]);
      absl::string_view scope = absl::StripAsciiWhitespace(cols[1]);
      if (name.empty() || scope.size() != 1) continue;
      m->emplace(std::string(name), scope[0]);
    }
    std::free(text);
    return m;
  }();
  return *scopes;
}

}  // namespace

bool PropertyAppliesTo(std::string_view name, ClientKind kind) {
  const auto& scopes = PropertyScopes();
  auto it = scopes.find(absl::string_view(name.data(), name.size()));
  if (it == scopes.end()) return true;
  switch (it->second) {
    case 'C':
      return kind == ClientKind::kConsumer;
    case 'P':
      return kind == ClientKind::kProducer;
    default:
      return true;
  }
}

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(
    const ClientOptions& options, ClientKind kind, const std::map<std::string, std::string>& defaults) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const std::string& k, const std::string& v) -> absl::Status {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("kafka config ", k, ": ", err));
    }
    return absl::OkStatus();
  };
  if (options.bootstrap_servers.empty()) {
    return absl::InvalidArgumentError("--kafka (bootstrap servers) is required");
  }
  if (auto s = set("bootstrap.servers", options.bootstrap_servers); !s.ok()) return s;
  if (auto s = set("client.id", options.client_id); !s.ok()) return s;
  for (const auto& [k, v] : defaults) {
    if (auto s = set(k, v); !s.ok()) return s;
  }
  if (options.on_stats) {
    if (auto s = set("statistics.interval.ms",
                     std::to_string(absl::ToInt64Milliseconds(options.stats_interval)));
        !s.ok()) {
      return s;
    }
  }
  for (const auto& [k, v] : options.extra) {
    if (!PropertyAppliesTo(k, kind)) continue;
    if (auto s = set(k, v); !s.ok()) return s;
  }
  return conf;
}

InRecord ToInRecord(RdKafka::Message& msg) {
  InRecord r;
  r.topic = msg.topic_name();
  r.partition = msg.partition();
  r.offset = msg.offset();
  if (msg.key()) r.key = *msg.key();
  if (msg.payload()) r.value.assign(static_cast<const char*>(msg.payload()), msg.len());
  r.timestamp_ms = msg.timestamp().timestamp;
  // Through the C API: the C++ wrapper's get_all() copies every header into
  // a vector of its own first (two more allocations per header).
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(msg.c_ptr(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
    r.headers.reserve(rd_kafka_header_cnt(headers));
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      r.headers.push_back({name, value != nullptr ? std::string(static_cast<const char*>(value), size) : ""});
    }
  }
  return r;
}

KafkaStats ParseStats(const std::string& json) {
  KafkaStats stats;
  google::protobuf::Struct root;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(json, &root, opts).ok()) return stats;
  const auto& f = root.fields();
  if (auto it = f.find("msg_cnt"); it != f.end()) {
    stats.producer_queue_messages = static_cast<int64_t>(it->second.number_value());
  }
  if (auto it = f.find("brokers"); it != f.end()) {
    for (const auto& [name, broker] : it->second.struct_value().fields()) {
      const auto& bf = broker.struct_value().fields();
      auto rtt = bf.find("rtt");
      auto nodeid = bf.find("nodeid");
      // Skip bootstrap placeholders (nodeid -1) and brokers never talked to.
      if (rtt == bf.end() || (nodeid != bf.end() && nodeid->second.number_value() < 0)) continue;
      const auto& rf = rtt->second.struct_value().fields();
      auto avg = rf.find("avg");
      if (avg != rf.end()) stats.broker_rtt_seconds[name] = avg->second.number_value() / 1e6;
    }
  }
  if (auto it = f.find("topics"); it != f.end()) {
    for (const auto& [topic, t] : it->second.struct_value().fields()) {
      auto parts = t.struct_value().fields().find("partitions");
      if (parts == t.struct_value().fields().end()) continue;
      for (const auto& [pid, p] : parts->second.struct_value().fields()) {
        int32_t partition;
        if (!absl::SimpleAtoi(pid, &partition) || partition < 0) continue;
        const auto& pf = p.struct_value().fields();
        auto lag = pf.find("consumer_lag");
        if (lag == pf.end()) continue;
        stats.consumer_lag[{topic, partition}] = static_cast<int64_t>(lag->second.number_value());
      }
    }
  }
  return stats;
}

void EventForwarder::event_cb(RdKafka::Event& event) {
  switch (event.type()) {
    case RdKafka::Event::EVENT_STATS:
      if (on_stats_) on_stats_(ParseStats(event.str()));
      break;
    case RdKafka::Event::EVENT_ERROR:
      util::LogWarn("kafka error", {{"error", RdKafka::err2str(event.err())}, {"detail", event.str()}});
      break;
    case RdKafka::Event::EVENT_LOG:
      if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
        util::LogWarn("kafka", {{"fac", event.fac()}, {"detail", event.str()}});
      }
      break;
    default:
      break;
  }
}

}  // namespace internal
}  // namespace inbeeld::kafka

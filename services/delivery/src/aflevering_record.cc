#include "inbeeld/delivery/aflevering_record.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/util/log.h"

namespace inbeeld::delivery {
namespace {

std::optional<absl::Time> IngestTime(const kafka::Headers& headers) {
  for (const kafka::Header& h : headers) {
    if (h.key != kafka::kHeaderIngestTime) continue;
    absl::Time t;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, h.value, &t, &error)) return t;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<v1::Signaal> DecodeAfleveringRecord(const kafka::InRecord& record) {
  v1::Signaal signaal;
  if (!signaal.ParseFromString(record.value)) {
    // Routing validated it; a broken record is skipped rather than ending
    // every resume at the same place. The position identifies it.
    util::LogError("undecodable aflevering record skipped",
                   {{"partition", absl::StrCat(record.partition)},
                    {"offset", absl::StrCat(record.offset)}});
    return std::nullopt;
  }
  if (!signaal.organisatie().empty() && signaal.organisatie() != record.key) {
    util::LogError("aflevering record key and organisatie differ; skipped",
                   {{"partition", absl::StrCat(record.partition)},
                    {"offset", absl::StrCat(record.offset)}});
    return std::nullopt;
  }
  return signaal;
}

Aflevering MakeAflevering(v1::Signaal signaal, const kafka::InRecord& record) {
  Aflevering aflevering;
  *aflevering.bericht.mutable_signaal() = std::move(signaal);
  aflevering.record_time = absl::FromUnixMillis(record.timestamp_ms);
  aflevering.ingest_time = IngestTime(record.headers);
  return aflevering;
}

}  // namespace inbeeld::delivery

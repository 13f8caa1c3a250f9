#pragma once
// Every topic name in one place (docs/ARCHITECTURE.md lists them).
#include <array>
#include <string>
#include <string_view>

namespace inbeeld::kafka {

inline constexpr std::string_view kTopicVerzuimmeldingen = "inbeeld.verzuimmeldingen.v1";
inline constexpr std::string_view kTopicInschrijvingsmutaties = "inbeeld.inschrijvingsmutaties.v1";
inline constexpr std::string_view kTopicAdresmutaties = "inbeeld.adresmutaties.v1";
inline constexpr std::string_view kTopicVrijstellingen = "inbeeld.vrijstellingen.v1";
// Keyed by pseudonym; same partition count as the four event topics.
inline constexpr std::string_view kTopicSignalen = "inbeeld.signalen.v1";
// Compacted; key = pseudonym, value = JongereState in the compact stored form
// (services/signaling/core/state_codec.h).
inline constexpr std::string_view kTopicSignalingChangelog = "inbeeld.signaling.changelog.v1";
// Keyed by organisation id.
inline constexpr std::string_view kTopicAflevering = "inbeeld.aflevering.v1";
// Compacted; the deployment's organisation table (optional source).
inline constexpr std::string_view kTopicOrganisaties = "inbeeld.organisaties.v1";

inline constexpr std::array<std::string_view, 4> kEventTopics = {
    kTopicVerzuimmeldingen, kTopicInschrijvingsmutaties, kTopicAdresmutaties,
    kTopicVrijstellingen};

// Dead-letter topic of a topic: "<topic>.dlq".
inline std::string DlqTopic(std::string_view topic) {
  return std::string(topic) + ".dlq";
}

// Header names (CloudEvents binary mode + InBeeld's own).
inline constexpr std::string_view kHeaderCeSpecversion = "ce_specversion";
inline constexpr std::string_view kHeaderCeId = "ce_id";
inline constexpr std::string_view kHeaderCeSource = "ce_source";
inline constexpr std::string_view kHeaderCeType = "ce_type";
inline constexpr std::string_view kHeaderCeTime = "ce_time";
inline constexpr std::string_view kHeaderContentType = "content-type";
// DLQ headers: why a record was rejected and where it came from.
inline constexpr std::string_view kHeaderDlqError = "inbeeld_dlq_error";
inline constexpr std::string_view kHeaderDlqTopic = "inbeeld_dlq_topic";
inline constexpr std::string_view kHeaderDlqPartition = "inbeeld_dlq_partition";
inline constexpr std::string_view kHeaderDlqOffset = "inbeeld_dlq_offset";
// Ingest time (RFC 3339) of the earliest event behind a signal, for
// end-to-end latency.
inline constexpr std::string_view kHeaderIngestTime = "inbeeld_ingest_time";

}  // namespace inbeeld::kafka

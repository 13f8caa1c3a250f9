#pragma once
// How an inbeeld.v1 event travels on Kafka: the topic of its kind, the
// pseudonym as key, the serialized event message as value and CloudEvents
// binary-mode headers. Ingest encodes, signaling decodes: one definition.
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/v1/events.pb.h"

namespace inbeeld::events {

// Deterministic CloudEvents id of an event: the first 128 bits (32 hex chars) of
// SHA-256(kind | bron | id). A retry of the same (bron, id) gets the same id.
std::string CeId(const v1::Event& event);

// ce_type of an event kind, e.g. "nl.inbeeld.v1.VerzuimMelding".
std::string CeType(const v1::Event& event);

// The Kafka record for an event. The event must be valid (identity::Validate).
kafka::OutRecord Encode(const v1::Event& event, const identity::Pseudonymizer& pseudonymizer,
                        absl::Time ingest_time);
// The same, with the event's CeId already computed by the caller.
kafka::OutRecord Encode(const v1::Event& event, const identity::Pseudonymizer& pseudonymizer,
                        absl::Time ingest_time, std::string ce_id);

// The event in a record read from one of the four event topics. Errors
// (unknown topic, undecodable value, missing identity) are INVALID_ARGUMENT and
// belong in the DLQ.
absl::StatusOr<v1::Event> Decode(const kafka::InRecord& record);

// RFC 3339 UTC with milliseconds, as used in ce_time.
std::string Rfc3339(absl::Time t);

}  // namespace inbeeld::events

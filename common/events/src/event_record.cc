#include "inbeeld/events/event_record.h"

#include "absl/strings/str_cat.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/topics.h"

namespace inbeeld::events {
namespace {

std::string_view TopicOf(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding: return kafka::kTopicVerzuimmeldingen;
    case v1::Event::kInschrijvingsmutatie: return kafka::kTopicInschrijvingsmutaties;
    case v1::Event::kAdresmutatie: return kafka::kTopicAdresmutaties;
    case v1::Event::kVrijstelling: return kafka::kTopicVrijstellingen;
    default: return "";
  }
}

const google::protobuf::Message* Payload(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding: return &e.verzuimmelding();
    case v1::Event::kInschrijvingsmutatie: return &e.inschrijvingsmutatie();
    case v1::Event::kAdresmutatie: return &e.adresmutatie();
    case v1::Event::kVrijstelling: return &e.vrijstelling();
    default: return nullptr;
  }
}

}  // namespace

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string CeId(const v1::Event& event) {
  identity::EventRef ref = identity::RefOf(event);
  return identity::Sha256Hex(absl::StrCat(ref.kind, "|", ref.bron, "|", ref.id)).substr(0, 32);
}

std::string CeType(const v1::Event& event) {
  const auto* payload = Payload(event);
  return payload ? absl::StrCat("nl.", std::string(payload->GetDescriptor()->full_name())) : "";
}

kafka::OutRecord Encode(const v1::Event& event, const identity::Pseudonymizer& pseudonymizer,
                        absl::Time ingest_time) {
  identity::EventRef ref = identity::RefOf(event);
  kafka::OutRecord out;
  out.topic = std::string(TopicOf(event));
  out.key = pseudonymizer.Of(*ref.leerling);
  Payload(event)->SerializeToString(&out.value);
  out.headers = {
      {std::string(kafka::kHeaderCeSpecversion), "1.0"},
      {std::string(kafka::kHeaderCeId), CeId(event)},
      {std::string(kafka::kHeaderCeSource), absl::StrCat("/inbeeld/bron/", ref.bron)},
      {std::string(kafka::kHeaderCeType), CeType(event)},
      {std::string(kafka::kHeaderCeTime), Rfc3339(ingest_time)},
      {std::string(kafka::kHeaderContentType), "application/protobuf"},
  };
  return out;
}

absl::StatusOr<v1::Event> Decode(const kafka::InRecord& record) {
  v1::Event event;
  bool parsed = false;
  if (record.topic == kafka::kTopicVerzuimmeldingen) {
    parsed = event.mutable_verzuimmelding()->ParseFromString(record.value);
  } else if (record.topic == kafka::kTopicInschrijvingsmutaties) {
    parsed = event.mutable_inschrijvingsmutatie()->ParseFromString(record.value);
  } else if (record.topic == kafka::kTopicAdresmutaties) {
    parsed = event.mutable_adresmutatie()->ParseFromString(record.value);
  } else if (record.topic == kafka::kTopicVrijstellingen) {
    parsed = event.mutable_vrijstelling()->ParseFromString(record.value);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("not an event topic: ", record.topic));
  }
  if (!parsed) return absl::InvalidArgumentError("value is not a valid protobuf event of this topic");
  // The contract: only valid events travel. A producer other than ingest may
  // break it; such a record goes to the DLQ (the description never echoes values).
  identity::Violations v = identity::Validate(event);
  if (!v.empty()) return absl::InvalidArgumentError(absl::StrCat("contract violation: ", identity::Describe(v)));
  return event;
}

}  // namespace inbeeld::events

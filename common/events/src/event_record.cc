#include "inbeeld/events/event_record.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
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
  // Every event (ingest) and every batch of signals (signaling) is stamped:
  // written digit by digit rather than through FormatTime's format parser.
  // FormatTime stays for what this form cannot hold (years outside 0..9999).
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::TimeZone::CivilInfo ci = utc.At(t);
  const absl::CivilSecond& cs = ci.cs;
  if (cs.year() < 0 || cs.year() > 9999) return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, utc);
  // Milliseconds truncated, as %E3S does.
  const int64_t ms = absl::ToInt64Milliseconds(ci.subsecond);
  std::string s = "0000-00-00T00:00:00.000Z";
  auto zet = [&s](size_t pos, int64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v /= 10) s[pos + static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
  };
  zet(0, cs.year(), 4);
  zet(5, cs.month(), 2);
  zet(8, cs.day(), 2);
  zet(11, cs.hour(), 2);
  zet(14, cs.minute(), 2);
  zet(17, cs.second(), 2);
  zet(20, ms, 3);
  return s;
}

std::string CeId(const v1::Event& event) {
  identity::EventRef ref = identity::RefOf(event);
  return identity::Sha256Hex(absl::StrCat(ref.kind, "|", ref.bron, "|", ref.id)).substr(0, 32);
}

std::string CeType(const v1::Event& event) {
  // Per kind once: GetDescriptor() looks the descriptors up on every call.
  static const auto* const types = [] {
    auto* t = new std::array<std::string, 5>();
    (*t)[v1::Event::kVerzuimmelding] = absl::StrCat("nl.", v1::VerzuimMelding::descriptor()->full_name());
    (*t)[v1::Event::kInschrijvingsmutatie] = absl::StrCat("nl.", v1::InschrijvingsMutatie::descriptor()->full_name());
    (*t)[v1::Event::kAdresmutatie] = absl::StrCat("nl.", v1::AdresMutatie::descriptor()->full_name());
    (*t)[v1::Event::kVrijstelling] = absl::StrCat("nl.", v1::Vrijstelling::descriptor()->full_name());
    return t;
  }();
  const int kind = static_cast<int>(event.event_case());
  return kind > 0 && kind < static_cast<int>(types->size()) ? (*types)[static_cast<size_t>(kind)] : "";
}

kafka::OutRecord Encode(const v1::Event& event, const identity::Pseudonymizer& pseudonymizer,
                        absl::Time ingest_time) {
  return Encode(event, pseudonymizer, ingest_time, CeId(event));
}

kafka::OutRecord Encode(const v1::Event& event, const identity::Pseudonymizer& pseudonymizer,
                        absl::Time ingest_time, std::string ce_id) {
  identity::EventRef ref = identity::RefOf(event);
  kafka::OutRecord out;
  out.topic = std::string(TopicOf(event));
  out.key = pseudonymizer.Of(*ref.leerling);
  Payload(event)->SerializeToString(&out.value);
  out.headers = {
      {std::string(kafka::kHeaderCeSpecversion), "1.0"},
      {std::string(kafka::kHeaderCeId), std::move(ce_id)},
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

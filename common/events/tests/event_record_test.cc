#include "inbeeld/events/event_record.h"

#include "gtest/gtest.h"
#include "inbeeld/kafka/topics.h"

namespace inbeeld::events {
namespace {

v1::Event Melding() {
  v1::Event e;
  auto* m = e.mutable_verzuimmelding();
  m->set_melding_id("vm-1");
  m->set_bron("05KO");
  m->mutable_leerling()->set_bsn("111222333");
  m->set_geboortedatum("2012-05-01");
  m->set_brin("05KO");
  m->set_soort(v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN);
  m->set_meldingsdatum("2024-03-01");
  m->set_begindatum("2024-02-01");
  return e;
}

TEST(EventRecordTest, EncodeDecodeRoundTripWithCloudEventsHeaders) {
  auto p = identity::Pseudonymizer::Create(std::string(identity::Pseudonymizer::kDevelopmentSecret));
  ASSERT_TRUE(p.ok());
  kafka::OutRecord out = Encode(Melding(), *p, absl::FromUnixSeconds(1700000000));
  EXPECT_EQ(out.topic, kafka::kTopicVerzuimmeldingen);
  EXPECT_EQ(out.key, p->Of(Melding().verzuimmelding().leerling()));
  EXPECT_EQ(out.key.find("111222333"), std::string::npos);
  EXPECT_EQ(kafka::FindHeader(out.headers, "ce_specversion"), "1.0");
  EXPECT_EQ(kafka::FindHeader(out.headers, "ce_id"), CeId(Melding()));
  EXPECT_EQ(kafka::FindHeader(out.headers, "ce_type"), "nl.inbeeld.v1.VerzuimMelding");
  EXPECT_EQ(kafka::FindHeader(out.headers, "ce_source"), "/inbeeld/bron/05KO");
  EXPECT_EQ(kafka::FindHeader(out.headers, "ce_time"), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(kafka::FindHeader(out.headers, "content-type"), "application/protobuf");

  kafka::InRecord in{out.topic, 0, 0, out.key, out.value, out.headers, 0};
  auto decoded = Decode(in);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->SerializeAsString(), Melding().SerializeAsString());
}

TEST(EventRecordTest, CeIdDependsOnBronAndIdOnly) {
  v1::Event a = Melding();
  v1::Event b = Melding();
  b.mutable_verzuimmelding()->set_verzuim_uren(20);
  EXPECT_EQ(CeId(a), CeId(b));
  b.mutable_verzuimmelding()->set_melding_id("vm-2");
  EXPECT_NE(CeId(a), CeId(b));
  EXPECT_EQ(CeId(a).size(), 32u);
}

TEST(EventRecordTest, PoisonRecordsAreRejected) {
  kafka::InRecord garbage{std::string(kafka::kTopicVerzuimmeldingen), 0, 0, "k", "\xff\xff\xff", {}, 0};
  EXPECT_EQ(Decode(garbage).status().code(), absl::StatusCode::kInvalidArgument);
  // Parses, but breaks the contract (no leerling): DLQ, and no BSN in the error.
  v1::Event e = Melding();
  e.mutable_verzuimmelding()->mutable_leerling()->set_bsn("111222334");
  kafka::InRecord bad{std::string(kafka::kTopicVerzuimmeldingen), 0, 0, "k",
                      e.verzuimmelding().SerializeAsString(), {}, 0};
  auto st = Decode(bad).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(st.message()).find("111222334"), std::string::npos);
  kafka::InRecord other{"other", 0, 0, "k", "", {}, 0};
  EXPECT_FALSE(Decode(other).ok());
}

}  // namespace
}  // namespace inbeeld::events

namespace inbeeld::events {
namespace {

// Rfc3339 writes the digits itself: it must say exactly what FormatTime's
// "%Y-%m-%dT%H:%M:%E3SZ" says (milliseconds truncated, UTC).
TEST(EventRecordTest, Rfc3339EqualsFormatTime) {
  const auto reference = [](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
  };
  std::vector<absl::Time> times = {
      absl::UnixEpoch(),
      absl::FromCivil(absl::CivilSecond(2024, 2, 29, 23, 59, 59), absl::UTCTimeZone()) + absl::Microseconds(999999),
      absl::FromCivil(absl::CivilSecond(1969, 12, 31, 23, 59, 59), absl::UTCTimeZone()) + absl::Microseconds(1500),
      absl::FromCivil(absl::CivilSecond(1900, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone()),  // beyond four digits
      absl::FromCivil(absl::CivilSecond(-1, 6, 1, 0, 0, 0), absl::UTCTimeZone()),
  };
  // A sweep of ordinary times with odd sub-second parts.
  absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 12, 1, 10, 0, 0), absl::UTCTimeZone());
  for (int i = 0; i < 2000; ++i) {
    t += absl::Seconds(3607) + absl::Nanoseconds(123456789 + i * 7919);
    times.push_back(t);
  }
  for (absl::Time x : times) EXPECT_EQ(Rfc3339(x), reference(x));
}

// Every kind of the Event oneof has its CloudEvents type: "nl." and the
// payload's full name (a kind added to the proto must get one too).
TEST(EventRecordTest, CeTypeOfEveryKind) {
  const google::protobuf::OneofDescriptor* oneof = v1::Event::descriptor()->FindOneofByName("event");
  ASSERT_NE(oneof, nullptr);
  for (int i = 0; i < oneof->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = oneof->field(i);
    v1::Event e;
    e.GetReflection()->MutableMessage(&e, f);
    EXPECT_EQ(CeType(e), "nl." + f->message_type()->full_name()) << f->name();
  }
  EXPECT_EQ(CeType(v1::Event()), "");
}

}  // namespace
}  // namespace inbeeld::events

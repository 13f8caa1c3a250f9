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

#include "inbeeld/events/event_json.h"

#include <random>

#include "absl/status/statusor.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace inbeeld::events {
namespace {

// What protobuf's own parser makes of a line (the reference).
absl::StatusOr<v1::Event> Reference(std::string_view line) {
  v1::Event e;
  if (!google::protobuf::util::JsonStringToMessage(google::protobuf::StringPiece(line.data(), line.size()), &e)
           .ok()) {
    return absl::InvalidArgumentError("invalid");
  }
  return e;
}

void ExpectSameAsProtobuf(std::string_view line) {
  const absl::StatusOr<v1::Event> reference = Reference(line);
  v1::Event e;
  const absl::Status s = ParseEventJson(line, &e);
  ASSERT_EQ(s.ok(), reference.ok()) << line;
  if (s.ok()) {
    EXPECT_EQ(e.SerializeAsString(), reference->SerializeAsString()) << line;
  } else {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  }
  // Whatever the fast path accepts, protobuf accepts the same way.
  v1::Event fast;
  if (ParseEventJsonFast(line, &fast)) {
    ASSERT_TRUE(reference.ok()) << line;
    EXPECT_EQ(fast.SerializeAsString(), reference->SerializeAsString()) << line;
  }
}

// A random event of `kind` with every field set or left away at random:
// strings of the characters ids, dates and codes use, any uint32, any value
// of each enum, the leerling by bsn or onderwijsnummer.
v1::Event RandomEvent(int kind, std::mt19937& rng) {
  v1::Event e;
  const google::protobuf::FieldDescriptor* oneof = v1::Event::descriptor()->FindFieldByNumber(kind);
  google::protobuf::Message* m = e.GetReflection()->MutableMessage(&e, oneof);
  const google::protobuf::Reflection* r = m->GetReflection();
  const std::string tekens = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ -_:./";
  auto tekst = [&] {
    std::string t(rng() % 20, ' ');
    for (char& c : t) c = tekens[rng() % tekens.size()];
    return t;
  };
  const google::protobuf::Descriptor* d = m->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (rng() % 4 == 0) continue;  // left away
    switch (f->type()) {
      case google::protobuf::FieldDescriptor::TYPE_STRING: r->SetString(m, f, tekst()); break;
      case google::protobuf::FieldDescriptor::TYPE_UINT32: r->SetUInt32(m, f, static_cast<uint32_t>(rng())); break;
      case google::protobuf::FieldDescriptor::TYPE_BOOL: r->SetBool(m, f, rng() % 2 == 0); break;
      case google::protobuf::FieldDescriptor::TYPE_ENUM:
        r->SetEnumValue(m, f, f->enum_type()->value(static_cast<int>(rng() % f->enum_type()->value_count()))->number());
        break;
      case google::protobuf::FieldDescriptor::TYPE_MESSAGE: {
        auto* leerling = dynamic_cast<v1::Leerling*>(r->MutableMessage(m, f));
        if (leerling == nullptr) {
          ADD_FAILURE() << "a message field the generator does not know: " << f->full_name();
          break;
        }
        if (rng() % 2 == 0) {
          leerling->set_bsn(tekst());
        } else {
          leerling->set_onderwijsnummer(tekst());
        }
        break;
      }
      default:
        ADD_FAILURE() << "a field type the generator does not know: " << f->full_name();
    }
  }
  return e;
}

// The lines `inbeeld meld` and `replay` get: printed by protobuf, with JSON
// names or with the proto field names, defaults written out or left away.
// The fast path reads them all, to the same Event.
TEST(EventJsonTest, PrintedEventsAreReadByTheFastPathExactly) {
  std::mt19937 rng(3);
  int lines = 0;
  for (int i = 0; i < 4000; ++i) {
    const v1::Event e = RandomEvent(1 + i % 4, rng);
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = (i / 4) % 2 == 0;
    print.always_print_primitive_fields = (i / 8) % 2 == 0;
    std::string line;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(e, &line, print).ok());
    v1::Event fast;
    ASSERT_TRUE(ParseEventJsonFast(line, &fast)) << "line " << i << ": " << line;
    EXPECT_EQ(fast.SerializeAsString(), e.SerializeAsString()) << line;
    ExpectSameAsProtobuf(line);
    ++lines;
  }
  EXPECT_EQ(lines, 4000);
}

// Lines off the common shape go to protobuf's parser and come out as it says.
TEST(EventJsonTest, EverythingElseIsReadAsProtobufReadsIt) {
  const std::string m = R"("meldingId":"m1","bron":"00AA","leerling":{"bsn":"123456782"},"geboortedatum":"2010-01-01")";
  for (const std::string& line : std::vector<std::string>{
           "{}",
           "  {  }  ",
           "{\"verzuimmelding\":{" + m + "}}",
           "{\"verzuimmelding\":{" + m + "}}\r",
           "{\"verzuimmelding\" : { " + m + " , \"verzuimUren\" : 12 } }",
           "{\"verzuimmelding\":{" + m + ",\"verzuimUren\":\"12\"}}",     // number in quotes
           "{\"verzuimmelding\":{" + m + ",\"verzuimUren\":12.0}}",       // fraction
           "{\"verzuimmelding\":{" + m + ",\"verzuimUren\":1e2}}",        // exponent
           "{\"verzuimmelding\":{" + m + ",\"verzuimUren\":-1}}",         // negative
           "{\"verzuimmelding\":{" + m + ",\"verzuimUren\":012}}",        // leading zero
           "{\"verzuimmelding\":{" + m + ",\"verzuimUren\":4294967295}}",
           "{\"verzuimmelding\":{" + m + ",\"verzuimUren\":4294967296}}",
           "{\"verzuimmelding\":{" + m + ",\"soort\":\"VERZUIM_SOORT_LUXE\"}}",
           "{\"verzuimmelding\":{" + m + ",\"soort\":\"GEEN_SOORT\"}}",   // unknown enum name
           "{\"verzuimmelding\":{" + m + ",\"soort\":3}}",                // enum by number
           "{\"verzuimmelding\":{" + m + ",\"einddatum\":\"\"}}",         // optional, present and empty
           "{\"verzuimmelding\":{" + m + ",\"einddatum\":null}}",
           "{\"verzuimmelding\":{" + m + ",\"actieGemeenteGewenst\":true,\"alle_lessen_gemist\":false}}",
           "{\"verzuimmelding\":{" + m + ",\"actieGemeenteGewenst\":\"true\"}}",
           "{\"verzuimmelding\":{" + m + ",\"bron\":\"00BB\"}}",           // a key twice
           "{\"verzuimmelding\":{" + m + ",\"melding_id\":\"m2\"}}",       // the same field by its other name
           "{\"verzuimmelding\":{" + m + ",\"onbekend\":1}}",              // unknown field
           "{\"verzuimmelding\":{" + m + ",\"vestiging\":\"caf\\u00e9\"}}",  // escape
           "{\"verzuimmelding\":{" + m + ",\"vestiging\":\"a\\\"b\\\\c\\n\"}}",
           "{\"verzuimmelding\":{" + m + ",\"vestiging\":\"caf\xc3\xa9\"}}",  // UTF-8
           "{\"verzuimmelding\":{" + m + ",\"vestiging\":\"\xff\"}}",        // not UTF-8
           "{\"verzuimmelding\":{\"leerling\":{}}}",
           "{\"verzuimmelding\":{\"leerling\":{\"bsn\":\"1\",\"onderwijsnummer\":\"2\"}}}",  // two of a oneof
           "{\"verzuimmelding\":{},\"adresmutatie\":{}}",                                   // two kinds
           "{\"verzuimmelding\":{}} x",
           "{\"verzuimmelding\":{" + m + "}",
           "{\"verzuimmelding\":[]}",
           "[]",
           "",
           "null",
           "{\"adresmutatie\":{\"mutatieId\":\"a\",\"soort\":\"ADRES_MUTATIE_SOORT_VERHUIZING\",\"gemeente\":\"0363\"}}",
           "{\"vrijstelling\":{\"id\":\"v\",\"artikel\":\"VRIJSTELLING_ARTIKEL_5_ONDER_A\",\"van\":\"2024-01-01\"}}",
       }) {
    SCOPED_TRACE(line);
    ExpectSameAsProtobuf(line);
  }
}

TEST(EventJsonTest, TheErrorDoesNotQuoteTheLine) {
  v1::Event e;
  const absl::Status s = ParseEventJson(R"({"verzuimmelding":{"leerling":{"bsn":123456782}}})", &e);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find("123456782"), std::string::npos);
}

}  // namespace
}  // namespace inbeeld::events

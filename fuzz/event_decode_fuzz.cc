// Event records from Kafka (the four event topics): the first byte picks the
// topic, the rest is the record value. Decode must never crash; whatever it
// accepts is a valid event that encodes and decodes to itself.
#include <cstdlib>

#include "absl/time/clock.h"
#include "fuzz/fuzz_input.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/topics.h"

namespace {

const char* const kTopics[] = {
    "inbeeld.verzuimmeldingen.v1", "inbeeld.inschrijvingsmutaties.v1",
    "inbeeld.adresmutaties.v1", "inbeeld.vrijstellingen.v1", "inbeeld.signalen.v1"};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inbeeld::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  if (size == 0) return 0;
  kafka::InRecord record;
  record.topic = kTopics[data[0] % (sizeof(kTopics) / sizeof(kTopics[0]))];
  record.value = std::string(fuzz::AsView(data + 1, size - 1));
  absl::StatusOr<v1::Event> event = events::Decode(record);
  if (!event.ok()) return 0;
  if (!identity::Validate(*event).empty()) std::abort();  // Decode let an invalid event through

  static const identity::Pseudonymizer* pseudonymizer = new identity::Pseudonymizer(
      *identity::Pseudonymizer::Create(std::string(identity::Pseudonymizer::kDevelopmentSecret)));
  kafka::OutRecord out = events::Encode(*event, *pseudonymizer, absl::UnixEpoch());
  kafka::InRecord again;
  again.topic = out.topic;
  again.key = out.key;
  again.value = out.value;
  again.headers = out.headers;
  absl::StatusOr<v1::Event> round = events::Decode(again);
  if (!round.ok() || round->SerializeAsString() != event->SerializeAsString()) std::abort();
  if (events::CeId(*round) != events::CeId(*event)) std::abort();
  return 0;
}

// The JSON line reader of `inbeeld meld`, `replay` and `telling`
// (common/events/include/inbeeld/events/event_json.h): its fast path must
// never accept a line protobuf's parser refuses, nor read one differently;
// ParseEventJson must agree with protobuf on every line.
#include <cstdlib>

#include "fuzz/fuzz_input.h"
#include "google/protobuf/util/json_util.h"
#include "inbeeld/events/event_json.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inbeeld::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  const std::string_view line = fuzz::AsView(data, size);
  v1::Event reference;
  const bool reference_ok =
      google::protobuf::util::JsonStringToMessage(google::protobuf::StringPiece(line.data(), line.size()), &reference)
          .ok();
  v1::Event fast;
  if (events::ParseEventJsonFast(line, &fast)) {
    if (!reference_ok || fast.SerializeAsString() != reference.SerializeAsString()) std::abort();
  }
  v1::Event parsed;
  const absl::Status s = events::ParseEventJson(line, &parsed);
  if (s.ok() != reference_ok) std::abort();
  if (s.ok() && parsed.SerializeAsString() != reference.SerializeAsString()) std::abort();
  return 0;
}

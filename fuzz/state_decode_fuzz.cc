// Jongere states as signaling reads them from its RocksDB store and from the
// changelog topic on restore (services/signaling/core/include/inbeeld/signaling/core/state_codec.h): either
// the compact form or the protobuf of before. Decoding must never crash; what
// decodes must encode and decode to the same state.
#include <cstdlib>

#include "fuzz/fuzz_input.h"
#include "inbeeld/signaling/core/state_codec.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inbeeld::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  absl::StatusOr<internal::v1::JongereState> state =
      signaling::DecodeJongereState(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!state.ok()) return 0;
  absl::StatusOr<internal::v1::JongereState> again = signaling::DecodeJongereState(signaling::EncodeJongereState(*state));
  if (!again.ok() || again->SerializeAsString() != state->SerializeAsString()) std::abort();
  return 0;
}

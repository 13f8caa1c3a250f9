// The JSON line parser of `inbeeld replay`: proto3 JSON Event envelopes, one
// per line, through validation and the whole signaling core. Replay must
// answer OK or INVALID_ARGUMENT (never crash), write nothing on a bad line,
// and be deterministic.
#include <cstdlib>
#include <sstream>

#include "fuzz/fuzz_input.h"
#include "inbeeld/signaling/replay/replay.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inbeeld::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  const std::string input(fuzz::AsView(data, size));
  signaling::ReplayOptions options;
  std::istringstream in(input);
  std::ostringstream out;
  const absl::Status status = signaling::Replay(in, out, options);
  if (!status.ok()) {
    if (status.code() != absl::StatusCode::kInvalidArgument) std::abort();
    if (!out.str().empty()) std::abort();  // a bad line means no output at all
    return 0;
  }
  std::istringstream again_in(input);
  std::ostringstream again_out;
  if (!signaling::Replay(again_in, again_out, options).ok() || again_out.str() != out.str()) {
    std::abort();
  }
  return 0;
}

#pragma once
// One proto3 JSON line as an inbeeld.v1.Event (the line format of
// `inbeeld meld`, `inbeeld replay` and `inbeeld telling`), read exactly as
// google::protobuf::util::JsonStringToMessage with default options reads it.
//
// Why not only that function: it converts JSON to the binary form through a
// generic stream writer, ~30 µs per line, which was most of the CPU of
// `inbeeld meld` and much of `inbeeld replay` (docs/PERFORMANCE.md). A fast
// path reads the common shape directly: one JSON object of one event kind
// whose values are ASCII strings without escapes, unsigned integers, booleans,
// enum names and nested objects (the leerling), keys by field name or JSON
// name, each at most once. Anything else (escapes, non-ASCII, null, numbers in
// quotes, unknown keys, ...) goes to protobuf's parser, so what is accepted,
// and how, never differs from it (event_json_test, event_json_fuzz).
#include <string_view>

#include "absl/status/status.h"
#include "inbeeld/v1/events.pb.h"

namespace inbeeld::events {

// INVALID_ARGUMENT when the line is not an Event; the message never quotes the
// line (it may hold a BSN).
absl::Status ParseEventJson(std::string_view line, v1::Event* event);

// The fast path alone (tests and the fuzz target): true when it read the
// line, false when the line needs protobuf's parser (`event` is then
// unspecified).
bool ParseEventJsonFast(std::string_view line, v1::Event* event);

}  // namespace inbeeld::events

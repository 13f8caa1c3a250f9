#pragma once
// The subscription cursor: where in inbeeld.aflevering.v1 a subscriber is.
//
// A cursor lists, per partition, the next offset to read: "partition:offset"
// pairs joined by commas ("0:15" or "0:15,1:3"). A partition that is absent
// is read from the beginning. Records of one organisation share a key and so
// a partition, so in practice a cursor has one pair; listing every partition
// keeps the cursor correct whatever partitioner the producer used. Clients
// treat it as opaque (signaal_service.proto).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace inbeeld::delivery {

struct Cursor {
  // partition → next offset to read.
  std::map<int32_t, int64_t> next_offsets;
  bool operator==(const Cursor&) const = default;
};

// "" for an empty cursor (from the beginning).
std::string EncodeCursor(const Cursor& cursor);

// "" → empty cursor. Anything malformed (not "p:o[,p:o]...", negative
// numbers, a partition twice) → INVALID_ARGUMENT; the message does not echo
// the input.
absl::StatusOr<Cursor> DecodeCursor(std::string_view text);

}  // namespace inbeeld::delivery

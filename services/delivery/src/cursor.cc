#include "inbeeld/delivery/cursor.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace inbeeld::delivery {
namespace {

// Longest cursor accepted: far more partitions than any deployment uses.
constexpr size_t kMaxCursorLength = 4096;

bool AllDigits(absl::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string EncodeCursor(const Cursor& cursor) {
  std::vector<std::string> parts;
  parts.reserve(cursor.next_offsets.size());
  for (const auto& [partition, offset] : cursor.next_offsets) {
    parts.push_back(absl::StrCat(partition, ":", offset));
  }
  return absl::StrJoin(parts, ",");
}

absl::StatusOr<Cursor> DecodeCursor(std::string_view input) {
  const absl::string_view text(input.data(), input.size());
  Cursor cursor;
  if (text.empty()) return cursor;
  auto bad = [](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed cursor (", why, "): pass back a cursor exactly as received"));
  };
  if (text.size() > kMaxCursorLength) return bad("too long");
  for (absl::string_view pair : absl::StrSplit(text, ',')) {
    std::vector<absl::string_view> fields = absl::StrSplit(pair, ':');
    if (fields.size() != 2 || !AllDigits(fields[0]) || !AllDigits(fields[1])) {
      return bad("want partition:offset pairs");
    }
    int32_t partition;
    int64_t offset;
    if (!absl::SimpleAtoi(fields[0], &partition) || !absl::SimpleAtoi(fields[1], &offset)) {
      return bad("number out of range");
    }
    if (!cursor.next_offsets.emplace(partition, offset).second) {
      return bad("partition repeated");
    }
  }
  return cursor;
}

}  // namespace inbeeld::delivery

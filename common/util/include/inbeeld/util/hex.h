#pragma once
// Ids made of 32 lowercase hex digits (ce_id, signaal_id: the first 128 bits
// of a SHA-256) held as the 128 bits they spell: 16 bytes inline in a hash
// table instead of a 32-character string on the heap.
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace inbeeld::util {

// The two 64-bit halves (first digits high) of exactly 32 lowercase hex
// digits; nullopt for anything else, upper case included, so that "AB.." and
// "ab.." never read as the same id.
std::optional<std::pair<uint64_t, uint64_t>> LowerHex128(std::string_view digits);

}  // namespace inbeeld::util

#pragma once
// The stored form of a JongereState (RocksDB value and changelog record).
//
// Why not the protobuf serialization: it repeats, per event, the leerling,
// geboortedatum, bron and gemeente as strings and every date as ten
// characters, and each signal id as hex characters: ~690 bytes for a
// school year (signaling_core_bench BM_StateEncode). The compact form
// (version byte 0x01) is lossless and ~200 bytes:
//   - dates as day deltas (zigzag varint) from the previous date written;
//   - strings interned per record: a repeated value is a one-byte reference,
//     a new one that shares a prefix with the previous value of its field
//     (ids of one school system) is the prefix length and the rest;
//   - each event field is written only when it differs from the same field of
//     the previous event of the same kind (a melding repeats its school's
//     fields), so a follow-up melding is its id and three dates;
//   - signal ids (hex) as raw bytes (and the state keeps only a 64-bit
//     prefix of each emitted id: jongere.cc).
// Decoding gives back exactly the JongereState that was encoded, so a service
// restored from the store computes what replay computes.
//
// Compatibility: a value written by the old format (a plain serialized
// JongereState) never starts with 0x01 (field number 0 is not a valid
// protobuf tag), so DecodeJongereState reads both; the store rewrites a
// jongere in the compact form the next time it changes.
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "inbeeld/internal/v1/state.pb.h"

namespace inbeeld::signaling {

inline constexpr char kCompactStateVersion = 0x01;

// The compact form; falls back to the protobuf serialization for a state the
// compact form cannot hold exactly (unknown fields from a newer writer).
std::string EncodeJongereState(const internal::v1::JongereState& state);

// Either form. DataLoss when the bytes are neither.
absl::StatusOr<internal::v1::JongereState> DecodeJongereState(std::string_view bytes);

}  // namespace inbeeld::signaling

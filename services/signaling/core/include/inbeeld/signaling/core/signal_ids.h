#pragma once
// Deterministic signal ids: the same facts give the same id, so a signal
// repeated after a crash or a replay is recognisably the same (signaal.proto).
#include <cstddef>
#include <string>
#include <string_view>

#include "inbeeld/v1/signaal.pb.h"

namespace inbeeld::signaling {

// First 32 lowercase hex chars of SHA-256("pseudoniem|SOORT|sleutel|peildatum").
// `sleutel` identifies the case (e.g. the begindatum of an absoluut verzuim,
// "bron/melding_id" of a melding); `peildatum` may be empty when the id must
// not depend on it (at most one OPGELOST per case).
std::string SignaalId(std::string_view pseudoniem, v1::SignaalSoort soort, std::string_view sleutel,
                      std::string_view peildatum);

// What a jongere's state remembers of an emitted signal (its Vingerafdruk):
// the first 16 hex characters (64 bits) of its id. Ids are SHA-256 based, so
// two signals of one jongere (tens at most) share a prefix with a probability
// below 1e-16; a prefix takes half the stored bytes of a whole id. States
// written before hold whole ids and are read as their prefixes.
inline constexpr size_t kVingerafdrukTekens = 16;

}  // namespace inbeeld::signaling

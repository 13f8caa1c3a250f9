#pragma once
// Deterministic signal ids: the same facts give the same id, so a signal
// repeated after a crash or a replay is recognisably the same (signaal.proto).
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

}  // namespace inbeeld::signaling

#include "inbeeld/signaling/core/signal_ids.h"

#include "absl/strings/escaping.h"
#include "inbeeld/identity/pseudonym.h"

namespace inbeeld::signaling {

std::string SignaalId(std::string_view pseudoniem, v1::SignaalSoort soort, std::string_view sleutel,
                      std::string_view peildatum) {
  std::string input(pseudoniem);
  input.append("|").append(v1::SignaalSoort_Name(soort)).append("|");
  input.append(sleutel).append("|").append(peildatum);
  // The first 16 bytes of the digest in lowercase hex: the id's 32
  // characters, without encoding the rest and cutting it off again.
  const identity::Sha256Digest digest = identity::Sha256(input);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest.data()), 16));
}

}  // namespace inbeeld::signaling

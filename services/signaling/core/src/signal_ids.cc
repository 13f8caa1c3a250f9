#include "inbeeld/signaling/core/signal_ids.h"

#include "inbeeld/identity/pseudonym.h"

namespace inbeeld::signaling {

std::string SignaalId(std::string_view pseudoniem, v1::SignaalSoort soort, std::string_view sleutel,
                      std::string_view peildatum) {
  std::string input(pseudoniem);
  input.append("|").append(v1::SignaalSoort_Name(soort)).append("|");
  input.append(sleutel).append("|").append(peildatum);
  return identity::Sha256Hex(input).substr(0, 32);
}

}  // namespace inbeeld::signaling

#include "inbeeld/signaling/core/signal_ids.h"

#include "inbeeld/identity/pseudonym.h"

namespace inbeeld::signaling {

std::string SignaalId(std::string_view pseudoniem, v1::SignaalSoort soort, std::string_view sleutel,
                      std::string_view peildatum) {
  std::string input(pseudoniem);
  input.append("|").append(v1::SignaalSoort_Name(soort)).append("|");
  input.append(sleutel).append("|").append(peildatum);
  // The first 16 bytes of the digest in lowercase hex: the id's 32 characters,
  // without encoding the rest and cutting it off again.
  const identity::Sha256Digest digest = identity::Sha256(input);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (size_t i = 0; i < 16; ++i) {
    id[2 * i] = kHex[digest[i] >> 4];
    id[2 * i + 1] = kHex[digest[i] & 0x0f];
  }
  return id;
}

}  // namespace inbeeld::signaling

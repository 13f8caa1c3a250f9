#include "inbeeld/identity/pseudonym.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "inbeeld/identity/validation.h"

namespace inbeeld::identity {
namespace {

std::string ToHex(const unsigned char* data, size_t len) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(data), len));
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return ToHex(out, len);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return ToHex(out, sizeof(out));
}

absl::StatusOr<Pseudonymizer> Pseudonymizer::Create(std::string secret) {
  if (secret.size() < 16) {
    return absl::InvalidArgumentError(
        "pseudonym secret must be at least 16 bytes (INBEELD_PSEUDONYM_SECRET)");
  }
  return Pseudonymizer(std::move(secret));
}

std::string Pseudonymizer::Of(const v1::Leerling& leerling) const {
  return OfKey(IdentityKey(leerling));
}

std::string Pseudonymizer::OfKey(std::string_view identity_key) const {
  return HmacSha256Hex(secret_, identity_key);
}

}  // namespace inbeeld::identity

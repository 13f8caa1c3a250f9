#pragma once
// Keyed pseudonyms: HMAC-SHA256(secret, identity) as lowercase hex. Used as
// Kafka key and internal reference instead of a BSN or onderwijsnummer.
#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "inbeeld/v1/common.pb.h"

namespace inbeeld::identity {

// Lowercase hex of HMAC-SHA256(key, data).
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Lowercase hex of SHA-256(data) (for deterministic ids of non-personal data).
std::string Sha256Hex(std::string_view data);
// SHA-256(data) itself, 32 bytes.
using Sha256Digest = std::array<unsigned char, 32>;
Sha256Digest Sha256(std::string_view data);

class Pseudonymizer {
 public:
  // The secret must be at least 16 bytes: a short key makes the 10^9 BSN space
  // brute-forceable.
  static absl::StatusOr<Pseudonymizer> Create(std::string secret);
  // Development secret used by `inbeeld run` when none is configured; the
  // services log a warning when they run with it.
  static constexpr std::string_view kDevelopmentSecret =
      "inbeeld-development-secret-do-not-use-in-production";

  // Pseudonym of a leerling (64 hex chars). Same identity → same pseudonym.
  std::string Of(const v1::Leerling& leerling) const;
  // Of an identity key as produced by IdentityKey().
  std::string OfKey(std::string_view identity_key) const;

 private:
  // HMAC keyed with the secret once (OpenSSL's one-shot HMAC() fetches the
  // algorithm and derives the key pads on every call: ~2.8 µs against
  // ~0.35 µs for copies of the keyed SHA-256 states). Shared, read-only after
  // Create: copies of a Pseudonymizer and concurrent callers only read it.
  class KeyedHmac;
  explicit Pseudonymizer(std::shared_ptr<const KeyedHmac> hmac) : hmac_(std::move(hmac)) {}
  std::shared_ptr<const KeyedHmac> hmac_;
};

}  // namespace inbeeld::identity

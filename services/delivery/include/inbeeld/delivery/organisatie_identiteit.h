#pragma once
// Who is calling: the organisation behind a client certificate. PKIoverheid
// certificates carry the organisation's OIN in the subject serialNumber
// (Digikoppeling/Edukoppeling, DOMAIN.md §3); the organisation table
// (deploy/config/organisaties.csv) maps that OIN to InBeeld's organisation id.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_context.h"

namespace inbeeld::delivery {

// The OIN (20 digits) in the subject serialNumber of a PEM certificate.
// INVALID_ARGUMENT when the PEM does not parse, NOT_FOUND when the subject has
// no serialNumber, INVALID_ARGUMENT when it is not 20 digits.
absl::StatusOr<std::string> OinFromCertificatePem(std::string_view pem);

// The same from a subject string, either OpenSSL's one-line form
// ("/CN=x/serialNumber=…") or RFC 2253 ("serialNumber=…,O=…,CN=x").
absl::StatusOr<std::string> OinFromSubject(std::string_view subject);

// A minimal RFC 4180 CSV reader (quoted fields with commas, "" escapes, CRLF).
// INVALID_ARGUMENT with the line number on an unterminated quote.
absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(std::string_view content);

class OrganisatieIdentiteit {
 public:
  // oin → organisation id.
  explicit OrganisatieIdentiteit(std::map<std::string, std::string, std::less<>> organisatie_per_oin);

  // Reads the organisation table (columns organisatie_id and oin, in any
  // position; one row per gemeente, so an organisation repeats). Rows without
  // an OIN (e.g. "onbekend") give no identity. One OIN naming two
  // organisations is an error: a certificate must identify one organisation.
  static absl::StatusOr<OrganisatieIdentiteit> FromCsv(std::string_view content);
  static absl::StatusOr<OrganisatieIdentiteit> LoadCsv(const std::string& path);

  // The organisation id for an OIN, NOT_FOUND when unknown.
  absl::StatusOr<std::string> OrganisatieVoorOin(std::string_view oin) const;
  // Whether `organisatie` is in the table at all (any row, even without OIN).
  bool IsBekend(std::string_view organisatie) const;

  // The organisation of the authenticated peer: the verified client
  // certificate ("x509_pem_cert", else "x509_subject") → OIN → organisation.
  // UNAUTHENTICATED without a certificate, without an OIN or with an OIN the
  // table does not know.
  absl::StatusOr<std::string> Authenticeer(const grpc::AuthContext& context) const;

  size_t size() const { return organisatie_per_oin_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> organisatie_per_oin_;
  std::set<std::string, std::less<>> organisaties_;
};

}  // namespace inbeeld::delivery

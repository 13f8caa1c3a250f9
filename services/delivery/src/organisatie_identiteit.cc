#include "inbeeld/delivery/organisatie_identiteit.h"

#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace inbeeld::delivery {
namespace {

absl::StatusOr<std::string> ValidOin(absl::string_view value) {
  if (value.size() != 20) {
    return absl::InvalidArgumentError("certificate serialNumber is not a 20-digit OIN");
  }
  for (char c : value) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError("certificate serialNumber is not a 20-digit OIN");
    }
  }
  return std::string(value);
}

absl::Status NoSerialNumber() {
  return absl::NotFoundError("certificate subject has no serialNumber (OIN)");
}

// Splits a distinguished name on separators not escaped with a backslash.
std::vector<std::string> SplitDn(absl::string_view dn, char separator) {
  std::vector<std::string> parts;
  std::string current;
  for (size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\' && i + 1 < dn.size()) {
      current += dn[++i];
    } else if (dn[i] == separator) {
      parts.push_back(std::move(current));
      current.clear();
    } else {
      current += dn[i];
    }
  }
  parts.push_back(std::move(current));
  return parts;
}

}  // namespace

absl::StatusOr<std::string> OinFromCertificatePem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr) return absl::InvalidArgumentError("client certificate is not valid PEM");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  int index = X509_NAME_get_index_by_NID(subject, NID_serialNumber, -1);
  if (index < 0) return NoSerialNumber();
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return absl::InvalidArgumentError("certificate serialNumber is not text");
  std::string value(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return ValidOin(value);
}

absl::StatusOr<std::string> OinFromSubject(std::string_view input) {
  absl::string_view subject =
      absl::StripAsciiWhitespace(absl::string_view(input.data(), input.size()));
  // OpenSSL's one-line form starts with '/', RFC 2253 separates with ','.
  std::vector<std::string> parts;
  if (absl::ConsumePrefix(&subject, "/")) {
    parts = SplitDn(subject, '/');
  } else {
    parts = SplitDn(subject, ',');
  }
  for (const std::string& part : parts) {
    absl::string_view attribute = absl::StripAsciiWhitespace(part);
    size_t eq = attribute.find('=');
    if (eq == absl::string_view::npos) continue;
    absl::string_view name = absl::StripAsciiWhitespace(attribute.substr(0, eq));
    if (absl::EqualsIgnoreCase(name, "serialNumber") || name == "2.5.4.5") {
      return ValidOin(absl::StripAsciiWhitespace(attribute.substr(eq + 1)));
    }
  }
  return NoSerialNumber();
}

absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(std::string_view content) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false;
  bool row_has_content = false;
  int line = 1;
  int quote_line = 0;
  auto end_row = [&]() {
    if (row_has_content || !row.empty() || !field.empty()) {
      row.push_back(std::move(field));
      rows.push_back(std::move(row));
    }
    row.clear();
    field.clear();
    row_has_content = false;
  };
  for (size_t i = 0; i < content.size(); ++i) {
    char c = content[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < content.size() && content[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_quotes = true;
        quote_line = line;
        row_has_content = true;
        break;
      case ',':
        row.push_back(std::move(field));
        field.clear();
        row_has_content = true;
        break;
      case '\r':
        break;
      case '\n':
        end_row();
        ++line;
        break;
      default:
        field += c;
        row_has_content = true;
    }
  }
  if (in_quotes) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", quote_line, ": quoted field not terminated"));
  }
  end_row();
  return rows;
}

OrganisatieIdentiteit::OrganisatieIdentiteit(
    std::map<std::string, std::string, std::less<>> organisatie_per_oin)
    : organisatie_per_oin_(std::move(organisatie_per_oin)) {
  for (const auto& [oin, organisatie] : organisatie_per_oin_) organisaties_.insert(organisatie);
}

absl::StatusOr<OrganisatieIdentiteit> OrganisatieIdentiteit::FromCsv(std::string_view content) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = ParseCsv(content);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::InvalidArgumentError("organisation table is empty");
  int id_column = -1, oin_column = -1;
  const std::vector<std::string>& header = rows->front();
  for (size_t i = 0; i < header.size(); ++i) {
    absl::string_view name = absl::StripAsciiWhitespace(header[i]);
    if (name == "organisatie_id") id_column = static_cast<int>(i);
    if (name == "oin") oin_column = static_cast<int>(i);
  }
  if (id_column < 0 || oin_column < 0) {
    return absl::InvalidArgumentError(
        "line 1: organisation table needs the columns organisatie_id and oin");
  }
  std::map<std::string, std::string, std::less<>> per_oin;
  std::set<std::string, std::less<>> organisaties;
  for (size_t r = 1; r < rows->size(); ++r) {
    const std::vector<std::string>& row = (*rows)[r];
    const size_t line = r + 1;  // data rows never span lines in this table
    auto cell = [&row](int column) -> std::string {
      return static_cast<size_t>(column) < row.size()
                 ? std::string(absl::StripAsciiWhitespace(row[column]))
                 : std::string();
    };
    std::string organisatie = cell(id_column);
    std::string oin = cell(oin_column);
    if (organisatie.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line, ": organisatie_id is empty"));
    }
    organisaties.insert(organisatie);
    if (oin.empty()) continue;
    if (absl::StatusOr<std::string> valid = ValidOin(oin); !valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line, ": oin is not 20 digits"));
    }
    auto [it, inserted] = per_oin.emplace(oin, organisatie);
    if (!inserted && it->second != organisatie) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line, ": oin ", oin, " already belongs to organisation ", it->second));
    }
  }
  OrganisatieIdentiteit identiteit(std::move(per_oin));
  identiteit.organisaties_.merge(organisaties);
  return identiteit;
}

absl::StatusOr<OrganisatieIdentiteit> OrganisatieIdentiteit::LoadCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read organisation table ", path));
  std::stringstream content;
  content << in.rdbuf();
  absl::StatusOr<OrganisatieIdentiteit> identiteit = FromCsv(content.str());
  if (!identiteit.ok()) {
    return absl::Status(identiteit.status().code(),
                        absl::StrCat(path, ": ", identiteit.status().message()));
  }
  return identiteit;
}

absl::StatusOr<std::string> OrganisatieIdentiteit::OrganisatieVoorOin(std::string_view oin) const {
  auto it = organisatie_per_oin_.find(oin);
  if (it == organisatie_per_oin_.end()) {
    return absl::NotFoundError("no organisation has this OIN");
  }
  return it->second;
}

bool OrganisatieIdentiteit::IsBekend(std::string_view organisatie) const {
  return organisaties_.find(organisatie) != organisaties_.end();
}

absl::StatusOr<std::string> OrganisatieIdentiteit::Authenticeer(
    const grpc::AuthContext& context) const {
  if (!context.IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("a client certificate is required");
  }
  absl::StatusOr<std::string> oin = absl::NotFoundError("no client certificate");
  std::vector<grpc::string_ref> pem = context.FindPropertyValues("x509_pem_cert");
  if (!pem.empty()) {
    oin = OinFromCertificatePem(std::string_view(pem.front().data(), pem.front().size()));
  } else {
    std::vector<grpc::string_ref> subject = context.FindPropertyValues("x509_subject");
    if (!subject.empty()) {
      oin = OinFromSubject(std::string_view(subject.front().data(), subject.front().size()));
    }
  }
  if (!oin.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate does not identify an organisation: ",
                     oin.status().message()));
  }
  absl::StatusOr<std::string> organisatie = OrganisatieVoorOin(*oin);
  if (!organisatie.ok()) {
    // The OIN identifies an organisation, not a person: fine to name it.
    return absl::UnauthenticatedError(absl::StrCat("OIN ", *oin, " is not a known organisation"));
  }
  return organisatie;
}

}  // namespace inbeeld::delivery

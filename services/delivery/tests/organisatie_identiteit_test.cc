#include "inbeeld/delivery/organisatie_identiteit.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test_certs.h"

namespace inbeeld::delivery {
namespace {

using testing::Certs;
using testing::ReadTextFile;

TEST(OinFromCertificatePemTest, ReadsTheSubjectSerialNumber) {
  absl::StatusOr<std::string> oin =
      OinFromCertificatePem(ReadTextFile(Certs().Cert(testing::kOrgA)));
  ASSERT_TRUE(oin.ok()) << oin.status();
  EXPECT_EQ(*oin, testing::kOinA);
  oin = OinFromCertificatePem(ReadTextFile(Certs().Cert(testing::kOrgB)));
  ASSERT_TRUE(oin.ok()) << oin.status();
  EXPECT_EQ(*oin, testing::kOinB);
}

TEST(OinFromCertificatePemTest, CertificateWithoutSerialNumberIsNotFound) {
  absl::StatusOr<std::string> oin = OinFromCertificatePem(ReadTextFile(Certs().server_cert));
  EXPECT_EQ(oin.status().code(), absl::StatusCode::kNotFound);
}

TEST(OinFromCertificatePemTest, GarbageIsInvalid) {
  EXPECT_EQ(OinFromCertificatePem("not a certificate").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OinFromCertificatePem("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(OinFromSubjectTest, ParsesBothNotations) {
  struct Case {
    const char* subject;
    absl::StatusCode code;
    const char* oin;
  };
  const Case cases[] = {
      {"/CN=rmc-21/O=Gemeente X/serialNumber=00000001234567890000", absl::StatusCode::kOk,
       "00000001234567890000"},
      {"serialNumber=00000001234567890000,O=Gemeente X,CN=rmc-21", absl::StatusCode::kOk,
       "00000001234567890000"},
      {"CN=rmc-21, O=Gemeente\\, regio, SERIALNUMBER=00000001234567890000",
       absl::StatusCode::kOk, "00000001234567890000"},
      {"2.5.4.5=00000001234567890000,CN=x", absl::StatusCode::kOk, "00000001234567890000"},
      {"CN=rmc-21,O=Gemeente X", absl::StatusCode::kNotFound, ""},
      {"CN=x,serialNumber=12345", absl::StatusCode::kInvalidArgument, ""},
      {"CN=x,serialNumber=0000000123456789000A", absl::StatusCode::kInvalidArgument, ""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> oin = OinFromSubject(c.subject);
    EXPECT_EQ(oin.status().code(), c.code) << c.subject;
    if (oin.ok()) {
      EXPECT_EQ(*oin, c.oin) << c.subject;
    }
  }
}

TEST(ParseCsvTest, HandlesQuotesCommasAndCrlf) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows =
      ParseCsv("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1], (std::vector<std::string>{"1", "x, y", "say \"hi\""}));
  EXPECT_EQ((*rows)[2], (std::vector<std::string>{"2", "", ""}));
}

TEST(ParseCsvTest, UnterminatedQuoteNamesTheLine) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = ParseCsv("a,b\n1,2\n3,\"oops\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("line 3"), std::string_view::npos);
}

TEST(OrganisatieIdentiteitTest, MapsOinToOrganisation) {
  absl::StatusOr<OrganisatieIdentiteit> id =
      OrganisatieIdentiteit::FromCsv(testing::OrganisatieTabelCsv());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->size(), 2u);
  EXPECT_EQ(*id->OrganisatieVoorOin(testing::kOinA), testing::kOrgA);
  EXPECT_EQ(*id->OrganisatieVoorOin(testing::kOinB), testing::kOrgB);
  EXPECT_EQ(id->OrganisatieVoorOin("99999999999999999999").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(id->IsBekend("onbekend"));  // a row without OIN is still an organisation
  EXPECT_FALSE(id->IsBekend("org-z"));
}

TEST(OrganisatieIdentiteitTest, ColumnsByNameInAnyOrder) {
  absl::StatusOr<OrganisatieIdentiteit> id =
      OrganisatieIdentiteit::FromCsv("oin,x,organisatie_id\n00000001000000000009,\"a,b\",org-9\n");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id->OrganisatieVoorOin("00000001000000000009"), "org-9");
}

TEST(OrganisatieIdentiteitTest, RejectsBadTables) {
  struct Case {
    const char* csv;
    const char* message_part;
  };
  const Case cases[] = {
      {"", "empty"},
      {"gemeentecode,organisatie_id\n0001,a\n", "columns"},
      {"organisatie_id,oin\na,00000001000000000001\nb,00000001000000000001\n",
       "line 3: oin 00000001000000000001 already belongs to organisation a"},
      {"organisatie_id,oin\na,123\n", "line 2: oin is not 20 digits"},
      {"organisatie_id,oin\n,00000001000000000001\n", "line 2: organisatie_id is empty"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<OrganisatieIdentiteit> id = OrganisatieIdentiteit::FromCsv(c.csv);
    ASSERT_FALSE(id.ok()) << c.csv;
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(id.status().message().find(c.message_part), std::string_view::npos)
        << id.status();
  }
}

TEST(OrganisatieIdentiteitTest, LoadsTheDeployedTable) {
  const std::string path = std::string(INBEELD_SOURCE_DIR) + "/deploy/config/organisaties.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no deploy/config/organisaties.csv";
  absl::StatusOr<OrganisatieIdentiteit> id = OrganisatieIdentiteit::LoadCsv(path);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_GT(id->size(), 0u);
}

// An AuthContext as gRPC fills it after a TLS handshake, without one.
struct EmptyIterator : grpc::AuthPropertyIterator {
  EmptyIterator() = default;  // the base's default constructor is protected
};

class FakeAuthContext final : public grpc::AuthContext {
 public:
  explicit FakeAuthContext(bool authenticated) : authenticated_(authenticated) {}
  bool IsPeerAuthenticated() const override { return authenticated_; }
  std::vector<grpc::string_ref> GetPeerIdentity() const override { return {}; }
  std::string GetPeerIdentityPropertyName() const override { return ""; }
  std::vector<grpc::string_ref> FindPropertyValues(const std::string& name) const override {
    std::vector<grpc::string_ref> values;
    for (const auto& [key, value] : properties_) {
      if (key == name) values.emplace_back(value);
    }
    return values;
  }
  grpc::AuthPropertyIterator begin() const override { return EmptyIterator(); }
  grpc::AuthPropertyIterator end() const override { return EmptyIterator(); }
  void AddProperty(const std::string& key, const grpc::string_ref& value) override {
    properties_.emplace_back(key, std::string(value.data(), value.size()));
  }
  bool SetPeerIdentityPropertyName(const std::string&) override { return true; }

 private:
  bool authenticated_;
  std::vector<std::pair<std::string, std::string>> properties_;
};

TEST(OrganisatieIdentiteitTest, AuthenticatesFromThePeerCertificate) {
  absl::StatusOr<OrganisatieIdentiteit> id =
      OrganisatieIdentiteit::FromCsv(testing::OrganisatieTabelCsv());
  ASSERT_TRUE(id.ok());

  FakeAuthContext pem(true);
  pem.AddProperty("x509_pem_cert", ReadTextFile(Certs().Cert(testing::kOrgB)));
  EXPECT_EQ(*id->Authenticeer(pem), testing::kOrgB);

  FakeAuthContext subject_only(true);
  subject_only.AddProperty("x509_subject",
                           absl::StrCat("serialNumber=", testing::kOinA, ",O=x,CN=org-a"));
  EXPECT_EQ(*id->Authenticeer(subject_only), testing::kOrgA);

  FakeAuthContext anonymous(false);
  EXPECT_EQ(id->Authenticeer(anonymous).status().code(), absl::StatusCode::kUnauthenticated);

  FakeAuthContext no_cert(true);
  EXPECT_EQ(id->Authenticeer(no_cert).status().code(), absl::StatusCode::kUnauthenticated);

  FakeAuthContext no_oin(true);
  no_oin.AddProperty("x509_pem_cert", ReadTextFile(Certs().server_cert));
  EXPECT_EQ(id->Authenticeer(no_oin).status().code(), absl::StatusCode::kUnauthenticated);

  FakeAuthContext unknown(true);
  unknown.AddProperty("x509_pem_cert", ReadTextFile(Certs().Cert("unknown")));
  absl::StatusOr<std::string> refused = id->Authenticeer(unknown);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("not a known organisation"), std::string_view::npos);
}

TEST(OrganisatieIdentiteitTest, MissingFileIsNotFound) {
  EXPECT_EQ(OrganisatieIdentiteit::LoadCsv("/nonexistent/organisaties.csv").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace inbeeld::delivery

#pragma once
// Development certificates for tests, made once per test process by
// scripts/gen-certs (so the script is exercised too) in a temporary
// directory that is removed at exit.
#include <string>

namespace inbeeld::delivery::testing {

inline constexpr char kOrgA[] = "org-a";
inline constexpr char kOinA[] = "00000001000000000001";
inline constexpr char kOrgB[] = "org-b";
inline constexpr char kOinB[] = "00000001000000000002";

struct TestCerts {
  std::string dir;
  std::string ca;           // path
  std::string server_cert;  // path
  std::string server_key;   // path
  std::string Cert(const std::string& id) const { return dir + "/clients/" + id + ".crt"; }
  std::string Key(const std::string& id) const { return dir + "/clients/" + id + ".key"; }
};

// Aborts the test binary when the script fails (nothing else can run).
const TestCerts& Certs();

// The organisation table matching the certificates (org-a, org-b; the
// "unknown" certificate's OIN is not in it).
std::string OrganisatieTabelCsv();

std::string ReadTextFile(const std::string& path);

}  // namespace inbeeld::delivery::testing

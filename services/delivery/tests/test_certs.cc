#include "test_certs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace inbeeld::delivery::testing {
namespace {

struct Owner {
  TestCerts certs;
  ~Owner() {
    std::error_code ignored;
    if (!certs.dir.empty()) std::filesystem::remove_all(certs.dir, ignored);
  }
};

}  // namespace

const TestCerts& Certs() {
  // Function-local static: made on first use, removed when the process exits.
  static Owner owner{[] {
    TestCerts c;
    std::string tmpl = (std::filesystem::temp_directory_path() / "inbeeld-certs-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::cerr << "mkdtemp failed\n";
      std::abort();
    }
    c.dir = tmpl;
    std::string command = std::string(INBEELD_SOURCE_DIR) + "/scripts/gen-certs '" + tmpl +
                          "' " + kOrgA + ":" + kOinA + " " + kOrgB + ":" + kOinB + " >/dev/null";
    if (std::system(command.c_str()) != 0) {
      std::cerr << "scripts/gen-certs failed: " << command << "\n";
      std::abort();
    }
    c.ca = tmpl + "/ca.crt";
    c.server_cert = tmpl + "/server.crt";
    c.server_key = tmpl + "/server.key";
    return c;
  }()};
  return owner.certs;
}

std::string OrganisatieTabelCsv() {
  return std::string(
             "gemeentecode,organisatie_id,organisatie_naam,oin,geldig_van,geldig_tot,"
             "achttien_plus_organisatie_id\n") +
         "0001,org-a,\"Leerplicht A, regio\"," + kOinA + ",,,org-a\n" +
         "0002,org-a,\"Leerplicht A, regio\"," + kOinA + ",,,org-a\n" +
         "0003,org-b,Leerplicht B," + kOinB + ",,,org-b\n" +
         "0000,onbekend,Onbekend,,,,onbekend\n";
}

std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace inbeeld::delivery::testing

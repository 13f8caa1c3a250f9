// Signaal records as routing reads them from inbeeld.signalen.v1 and delivery
// from inbeeld.aflevering.v1: a serialized Signaal, routed with the default
// table (deploy/config). Routing must never crash, and every routed copy
// names its organisation.
#include <cstdlib>
#include <memory>

#include "fuzz/fuzz_input.h"
#include "inbeeld/routing/organisatie_tabel.h"
#include "inbeeld/routing/router.h"
#include "inbeeld/v1/signaal.pb.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inbeeld::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  static const routing::OrganisatieTabel* tabel = [] {
    auto t = routing::OrganisatieTabel::Load(INBEELD_CONFIG_DIR "/organisaties.csv",
                                             INBEELD_CONFIG_DIR "/herindelingen.csv");
    if (!t.ok()) std::abort();
    return new routing::OrganisatieTabel(*std::move(t));
  }();
  v1::Signaal signaal;
  if (!signaal.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<routing::Routering> routering = routing::RouteSignaal(*tabel, signaal);
  if (!routering.ok()) return 0;
  if (routering->afleveringen.empty()) std::abort();
  for (const routing::Aflevering& a : routering->afleveringen) {
    if (a.organisatie_id.empty() || a.signaal.organisatie() != a.organisatie_id) std::abort();
    // Delivery decodes what routing wrote.
    v1::Signaal delivered;
    if (!delivered.ParseFromString(a.signaal.SerializeAsString())) std::abort();
  }
  return 0;
}

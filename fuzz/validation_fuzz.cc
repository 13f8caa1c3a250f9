// Ingest validation of every message kind: the input is a serialized
// inbeeld.v1.Event as a gRPC client sends it (MeldingService wraps the same
// messages). Validation must never crash and never echo a value: no
// violation text may contain the leerling's BSN or onderwijsnummer.
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_input.h"
#include "inbeeld/identity/validation.h"

namespace {

void CheckNoEcho(const inbeeld::identity::Violations& violations, const std::string& secret) {
  // An identifier is digits; a short one could match text like "64".
  if (secret.size() < 5) return;
  for (char c : secret) {
    if (c < '0' || c > '9') return;
  }
  for (const auto& v : violations) {
    if (v.description.find(secret) != std::string::npos ||
        v.field.find(secret) != std::string::npos) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  inbeeld::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  const std::string_view input = fuzz::AsView(data, size);
  // The single-identifier checks on the raw bytes.
  identity::IsValidBsn(input);
  identity::IsValidOnderwijsnummer(input);
  identity::IsValidBrin(input);
  identity::IsValidVestiging(input);
  identity::IsValidGemeentecode(input);

  v1::Event event;
  if (!event.ParseFromArray(data, static_cast<int>(size))) return 0;
  const identity::Violations violations = identity::Validate(event);
  identity::Describe(violations);
  identity::EventRef ref = identity::RefOf(event);
  if (ref.leerling != nullptr) {
    CheckNoEcho(violations, ref.leerling->bsn());
    CheckNoEcho(violations, ref.leerling->onderwijsnummer());
    identity::IdentityKey(*ref.leerling);
  }
  // Each kind on its own, as the typed RPCs validate them.
  CheckNoEcho(identity::Validate(event.verzuimmelding(), "verzuimmelding."), event.verzuimmelding().leerling().bsn());
  CheckNoEcho(identity::Validate(event.inschrijvingsmutatie()), event.inschrijvingsmutatie().leerling().bsn());
  CheckNoEcho(identity::Validate(event.adresmutatie()), event.adresmutatie().leerling().bsn());
  CheckNoEcho(identity::Validate(event.vrijstelling()), event.vrijstelling().leerling().bsn());
  return 0;
}

#pragma once
// Validation of identifiers and events (DOMAIN.md §3). Returns field-level
// violations; messages never echo the offending value (it may be a BSN).
#include <string>
#include <string_view>
#include <vector>

#include "inbeeld/v1/events.pb.h"

namespace inbeeld::identity {

struct FieldViolation {
  std::string field;        // e.g. "leerling.bsn"
  std::string description;  // e.g. "fails the eleven-test"
  bool operator==(const FieldViolation&) const = default;
};
using Violations = std::vector<FieldViolation>;

// BSN: 9 digits, Σ d_i·(9..2) − d_9 ≡ 0 (mod 11), not all zeros.
bool IsValidBsn(std::string_view bsn);
// Onderwijsnummer: 9 digits, starts with "10", weighted sum ≡ 5 (mod 11).
bool IsValidOnderwijsnummer(std::string_view nummer);
// BRIN: 2 digits + 2 capital letters (05KO).
bool IsValidBrin(std::string_view brin);
// Vestiging: 2 digits (the suffix; "07NU00" = BRIN 07NU + vestiging 00).
bool IsValidVestiging(std::string_view vestiging);
// Gemeentecode: 4 digits (0000 unknown, 0998 abroad, 1999 RNI are valid).
bool IsValidGemeentecode(std::string_view code);

// Size limits for free text fields and ids.
inline constexpr size_t kMaxIdLength = 64;
inline constexpr size_t kMaxBronLength = 64;

// Whole-event validation. `prefix` is prepended to field paths (e.g.
// "verzuimmelding." when inside an Event envelope).
Violations Validate(const v1::VerzuimMelding& m, std::string_view prefix = "");
Violations Validate(const v1::InschrijvingsMutatie& m, std::string_view prefix = "");
Violations Validate(const v1::AdresMutatie& m, std::string_view prefix = "");
Violations Validate(const v1::Vrijstelling& m, std::string_view prefix = "");
// An envelope must hold exactly one event.
Violations Validate(const v1::Event& e);

// "field: description; field: description" for status messages.
std::string Describe(const Violations& v);

// The identifier of the leerling as "bsn:<digits>" / "onr:<digits>" (internal
// use: the input of the pseudonym). Empty when none set.
std::string IdentityKey(const v1::Leerling& leerling);

// The (bron, id) of an event and a short kind name ("verzuimmelding",
// "inschrijvingsmutatie", "adresmutatie", "vrijstelling").
struct EventRef {
  std::string kind;
  std::string bron;
  std::string id;
  const v1::Leerling* leerling = nullptr;
};
EventRef RefOf(const v1::Event& e);

}  // namespace inbeeld::identity

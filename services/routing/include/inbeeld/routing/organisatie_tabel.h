#pragma once
// The organisation table: which organisation is responsible for the jongeren
// of a gemeente (Leerplichtwet 1969 art. 16: the college of the woongemeente;
// art. 4a/4b and the RMC regeling: the RMC-regio / Doorstroompunt for 18-plus),
// plus the herindelingen that turn an old gemeentecode into today's gemeenten.
// DOMAIN.md §4. Immutable once loaded: TabelWatcher swaps whole tables.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace inbeeld::routing {

// Where signals go that cannot be routed: gemeentecode 0000 (unknown), 0998
// (abroad), 1999 (RNI, non-residents), a code in no table, or a gemeente
// without a valid row on the date. Never dropped: a person looks at these.
inline constexpr std::string_view kOnbekendOrganisatieId = "onbekend";

struct Organisatie {
  std::string id;    // Kafka key and metric label: bounded by the table
  std::string naam;
  std::string oin;   // 20 digits, or empty when the table has none
  bool operator==(const Organisatie&) const = default;
};

// One row of organisaties.csv. Validity is inclusive on both ends; an absent
// bound is open.
struct OrganisatieRegel {
  int line = 0;
  std::string gemeentecode;
  std::string organisatie_id;
  std::optional<absl::CivilDay> geldig_van;
  std::optional<absl::CivilDay> geldig_tot;
  // Empty in the file means: the leerplicht organisation itself.
  std::string achttien_plus_organisatie_id;

  bool GeldigOp(absl::CivilDay day) const {
    return (!geldig_van || *geldig_van <= day) && (!geldig_tot || day <= *geldig_tot);
  }
};

// One row of herindelingen.csv: on `ingangsdatum` gemeente `oud` (wholly or
// partly) went to `nieuw`.
struct Herindeling {
  int line = 0;
  absl::CivilDay ingangsdatum;
  std::string oud;
  std::string nieuw;
};

struct RouteResult {
  // Destination organisations, without repeats, in the order of `gemeenten`.
  std::vector<Organisatie> organisaties;
  // Today's gemeenten the code resolved to (empty for special/unknown codes).
  std::vector<std::string> gemeenten;
  // The code was split: the responsible gemeente cannot be known from the
  // code alone, so every successor's organisation is told.
  bool ambigu = false;
  // At least one destination is the onbekend organisation.
  bool onbekend = false;
};

class OrganisatieTabel {
 public:
  // Parses and validates both files. Errors (INVALID_ARGUMENT) carry
  // "<name>:<line>: <what>" and never stop at a silently skipped row.
  static absl::StatusOr<OrganisatieTabel> Parse(
      std::string_view organisaties_csv, std::string_view herindelingen_csv,
      std::string_view organisaties_name = "organisaties.csv",
      std::string_view herindelingen_name = "herindelingen.csv");
  // Reads the files (NOT_FOUND / INTERNAL on I/O errors) and Parse()s them.
  static absl::StatusOr<OrganisatieTabel> Load(const std::filesystem::path& organisaties,
                                              const std::filesystem::path& herindelingen);

  // The organisations responsible for a jongere with this woongemeente on
  // `date`. An old code is resolved through every herindeling to today's
  // gemeenten whatever the date: organisations are those of the current table
  // (an event dated 2022-12-31 with Brielle 0501 reaches Voorne aan Zee 1992's
  // organisation). The date selects the row valid on it (geldig_van/_tot).
  // A split code is ambiguous on every date: after the split the code no longer
  // names one gemeente, and before it the part of the old gemeente the jongere
  // lived in is not in the code either (herindelingen README).
  RouteResult Route(std::string_view gemeentecode, absl::CivilDay date, bool achttien_plus) const;

  // Today's gemeenten an (old or current) code resolves to: {code} when it
  // never merged.
  std::vector<std::string> Opvolgers(std::string_view gemeentecode) const;

  const std::vector<OrganisatieRegel>& regels() const { return regels_; }
  const std::vector<Herindeling>& herindelingen() const { return herindelingen_; }
  // Every organisation the table can route to, including onbekend, by id.
  const std::map<std::string, Organisatie, std::less<>>& organisaties() const {
    return organisaties_;
  }
  const Organisatie& onbekend() const;

 private:
  OrganisatieTabel() = default;
  const OrganisatieRegel* RegelOp(std::string_view gemeentecode, absl::CivilDay date) const;

  std::vector<OrganisatieRegel> regels_;
  std::vector<Herindeling> herindelingen_;
  std::map<std::string, Organisatie, std::less<>> organisaties_;
  // gemeentecode → indexes into regels_.
  std::map<std::string, std::vector<size_t>, std::less<>> regels_per_gemeente_;
  // Old code → today's gemeenten (sorted, unique), herindelingen followed
  // transitively.
  std::map<std::string, std::vector<std::string>, std::less<>> opvolgers_;
};

// 0000 unknown, 0998 abroad, 1999 RNI (DOMAIN.md §3).
bool IsBijzondereGemeentecode(std::string_view gemeentecode);

}  // namespace inbeeld::routing

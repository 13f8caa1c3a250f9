#pragma once
// The facts about one jongere (the events InBeeld has seen), parsed once into
// dated, canonically ordered records that the rule families read.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "inbeeld/v1/events.pb.h"

namespace inbeeld::signaling {

// Canonical order of event kinds on one day (any fixed order works: every
// rule is evaluated at the END of a day, DOMAIN.md §6).
enum class FeitSoort {
  kAdresMutatie = 0,
  kVrijstelling = 1,
  kInschrijving = 2,
  kUitschrijving = 3,
  kVerzuimMelding = 4,
  kOnbekend = 5,
};

FeitSoort SoortVan(const v1::Event& event);
// The date an event takes effect: meldingsdatum, ingangsdatum or van.
absl::StatusOr<absl::CivilDay> DatumVan(const v1::Event& event);
// "bron/id", used in oorzaak_event_ids.
std::string RefVan(const v1::Event& event);
// Idempotency key: (bron, id) (events.proto: "Identity of an event").
std::string DedupSleutel(const v1::Event& event);
// DedupSleutel(a) == DedupSleutel(b), without building either.
bool ZelfdeDedupSleutel(const v1::Event& a, const v1::Event& b);
const v1::Leerling* LeerlingVan(const v1::Event& event);
std::string_view GeboortedatumVan(const v1::Event& event);
// Canonical order: date, kind, bron, id, then content (a total order, so
// sorting never depends on input order). Returns true when a < b.
bool CanonicalLess(const v1::Event& a, const v1::Event& b);

struct Feit {
  const v1::Event* event = nullptr;
  FeitSoort soort = FeitSoort::kOnbekend;
  absl::CivilDay datum;
  std::string ref;
};

struct MeldingFeit {
  const v1::VerzuimMelding* melding = nullptr;
  absl::CivilDay meldingsdatum;
  absl::CivilDay begindatum;
  std::optional<absl::CivilDay> einddatum;
  std::string ref;
};

struct MutatieFeit {
  const v1::InschrijvingsMutatie* mutatie = nullptr;
  absl::CivilDay datum;
  std::string ref;
};

struct AdresFeit {
  const v1::AdresMutatie* mutatie = nullptr;
  absl::CivilDay datum;
  std::string ref;
};

struct VrijstellingFeit {
  const v1::Vrijstelling* vrijstelling = nullptr;
  absl::CivilDay van;
  std::optional<absl::CivilDay> tot;  // inclusive; empty = open-ended
  std::string ref;
};

// All facts of one jongere. Pointers refer into the events it was built from,
// which must outlive it.
struct Feiten {
  std::vector<Feit> alle;  // canonical order
  std::vector<MeldingFeit> meldingen;
  std::vector<MutatieFeit> mutaties;
  std::vector<AdresFeit> adressen;
  std::vector<VrijstellingFeit> vrijstellingen;
  std::optional<absl::CivilDay> geboortedatum;
  v1::Leerling leerling;
  // First event date: the jongere is known from here (DOMAIN.md §6: no signal
  // is dated before that).
  absl::CivilDay bekend_vanaf;

  bool Leeg() const { return alle.empty(); }
  // Refs of the facts dated exactly `day`.
  std::vector<std::string> RefsOp(absl::CivilDay day) const;
  // Date of the latest fact dated <= day (nullopt when none).
  std::optional<absl::CivilDay> LaatsteFeitTot(absl::CivilDay day) const;
};

// Parses the events (skipping ones whose dates do not parse; Apply rejects
// those before they are stored).
Feiten ParseFeiten(const google::protobuf::RepeatedPtrField<v1::Event>& events);

}  // namespace inbeeld::signaling

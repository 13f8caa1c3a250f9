#pragma once
// Residence and woongemeente from BRP and school events (DOMAIN.md §6).
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "services/signaling/core/feiten.h"

namespace inbeeld::signaling {

enum class BrpStatus {
  kIngezetene,   // lives in NL (also: no BRP event yet, or verblijft niet op adres)
  kGeemigreerd,  // BRP emigratie
  kVow,          // vertrokken onbekend waarheen: residence ended
  kOverleden,
};

class Verblijf {
 public:
  static Verblijf Bereken(const Feiten& feiten);

  // Lives in NL unless emigratie, VOW or overlijden; geboorte, immigratie and
  // verhuizing restore it. Without any BRP event the woongemeente on school
  // events counts as residence in NL. Overlijden is final.
  BrpStatus StatusOp(absl::CivilDay day) const;
  bool IngezeteneOp(absl::CivilDay day) const { return StatusOp(day) == BrpStatus::kIngezetene; }
  // The gemeente of the latest BRP geboorte/immigratie/verhuizing dated <= day;
  // else of the latest school event dated <= day; else "0000".
  std::string WoongemeenteOp(absl::CivilDay day) const;

 private:
  std::vector<std::pair<absl::CivilDay, BrpStatus>> status_;  // by date
  std::vector<std::pair<absl::CivilDay, std::string>> brp_gemeente_;
  std::vector<std::pair<absl::CivilDay, std::string>> school_gemeente_;
};

}  // namespace inbeeld::signaling

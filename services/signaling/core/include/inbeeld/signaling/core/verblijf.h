#pragma once
// Residence and woongemeente from BRP, school and vrijstelling events
// (DOMAIN.md §6 "Routing of signals").
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "inbeeld/signaling/core/feiten.h"

namespace inbeeld::signaling {

enum class BrpStatus {
  kIngezetene,   // lives in NL (also: no BRP event yet, or verblijft niet op adres)
  kGeemigreerd,  // BRP emigratie
  kVow,          // vertrokken onbekend waarheen: residence ended
  kOverleden,
};

// A gemeentecode that names a Dutch gemeente: not empty and not one of the
// special codes 0000 (unknown), 0998 (abroad), 1999 (RNI) (DOMAIN.md §3).
bool IsEchteGemeente(std::string_view gemeentecode);

class Verblijf {
 public:
  static Verblijf Bereken(const Feiten& feiten);

  // Lives in NL unless emigratie, VOW or overlijden; geboorte, immigratie and
  // verhuizing restore it. Without any BRP event the woongemeente on school
  // events counts as residence in NL. Overlijden is final.
  BrpStatus StatusOp(absl::CivilDay day) const;
  bool IngezeteneOp(absl::CivilDay day) const { return StatusOp(day) == BrpStatus::kIngezetene; }
  // The woongemeente for routing on `day` (DOMAIN.md §6): the last real
  // gemeente named by any event dated <= day: a BRP event, a school event's
  // woongemeente or the gemeente that granted a vrijstelling. On one date the
  // BRP outranks a vrijstelling, which outranks a school. 0998 and 1999 never
  // count (emigratie and VOW leave the last Dutch woongemeente in place).
  // Before the first event that names one, the first gemeente any event
  // names; "0000" only when no event names one at all.
  std::string WoongemeenteOp(absl::CivilDay day) const;

 private:
  struct Genoemd {
    absl::CivilDay datum;
    int rang;  // on one date the higher rank wins
    std::string gemeente;
  };
  std::vector<std::pair<absl::CivilDay, BrpStatus>> status_;  // by date
  std::vector<Genoemd> gemeenten_;                            // by (datum, rang)
};

}  // namespace inbeeld::signaling

#include "inbeeld/signaling/core/lrv.h"

#include <algorithm>

namespace inbeeld::signaling {

bool LrvKetenVoltooid(const std::vector<MeldingFeit>& meldingen, absl::CivilDay day,
                      std::optional<absl::CivilDay> na, int lrv_days, std::vector<std::string>* refs) {
  struct Periode {
    absl::CivilDay van, tot;
    const std::string* ref;
  };
  std::vector<Periode> perioden;
  for (const MeldingFeit& m : meldingen) {
    if (m.melding->soort() != v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN) continue;
    if (m.meldingsdatum > day) continue;
    if (na && m.begindatum <= *na) continue;
    perioden.push_back({m.begindatum, m.einddatum.value_or(m.meldingsdatum), &m.ref});
  }
  std::sort(perioden.begin(), perioden.end(), [](const Periode& a, const Periode& b) {
    return a.van < b.van || (a.van == b.van && *a.ref < *b.ref);
  });
  size_t i = 0;
  while (i < perioden.size()) {
    const absl::CivilDay begin = perioden[i].van;
    absl::CivilDay eind = perioden[i].tot;
    size_t j = i + 1;
    while (j < perioden.size() && perioden[j].van <= eind + 1) {
      eind = std::max(eind, perioden[j].tot);
      ++j;
    }
    // "More than 28 days": the chain covers at least lrv_days + 1 days.
    if (eind >= begin + lrv_days && begin + lrv_days <= day) {
      if (refs != nullptr) {
        for (size_t k = i; k < j; ++k) refs->push_back(*perioden[k].ref);
        std::sort(refs->begin(), refs->end());
      }
      return true;
    }
    i = j;
  }
  return false;
}

}  // namespace inbeeld::signaling

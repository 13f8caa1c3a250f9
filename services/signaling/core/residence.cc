#include "services/signaling/core/residence.h"

#include <algorithm>

namespace inbeeld::signaling {
namespace {

const std::string* LaatsteTot(const std::vector<std::pair<absl::CivilDay, std::string>>& v,
                              absl::CivilDay day) {
  const std::string* out = nullptr;
  for (const auto& [d, g] : v) {
    if (d > day) break;
    out = &g;
  }
  return out;
}

}  // namespace

Verblijf Verblijf::Bereken(const Feiten& feiten) {
  Verblijf v;
  for (const AdresFeit& a : feiten.adressen) {  // canonical (date) order
    const v1::AdresMutatie& m = *a.mutatie;
    switch (m.soort()) {
      case v1::ADRES_MUTATIE_SOORT_GEBOORTE:
      case v1::ADRES_MUTATIE_SOORT_IMMIGRATIE:
      case v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND:
        v.status_.emplace_back(a.datum, BrpStatus::kIngezetene);
        if (!m.gemeente().empty()) v.brp_gemeente_.emplace_back(a.datum, m.gemeente());
        break;
      case v1::ADRES_MUTATIE_SOORT_VERBLIJFT_NIET_OP_ADRES:
        // Keeps residence (DOMAIN.md §6); no status change. The registering
        // gemeente is the last known woongemeente: it must look for the jongere.
        if (!m.gemeente().empty()) v.brp_gemeente_.emplace_back(a.datum, m.gemeente());
        break;
      case v1::ADRES_MUTATIE_SOORT_EMIGRATIE:
        v.status_.emplace_back(a.datum, BrpStatus::kGeemigreerd);
        if (!m.gemeente().empty()) v.brp_gemeente_.emplace_back(a.datum, m.gemeente());
        break;
      case v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN:
        v.status_.emplace_back(a.datum, BrpStatus::kVow);
        // The gemeente that struck the jongere off stays responsible for the
        // search (signals route there, not to "onbekend").
        if (!m.gemeente().empty()) v.brp_gemeente_.emplace_back(a.datum, m.gemeente());
        break;
      case v1::ADRES_MUTATIE_SOORT_OVERLIJDEN:
        v.status_.emplace_back(a.datum, BrpStatus::kOverleden);
        break;
      default:
        break;
    }
  }
  for (const MutatieFeit& m : feiten.mutaties) {
    if (m.mutatie->soort() == v1::MUTATIE_SOORT_UITSCHRIJVING &&
        m.mutatie->uitschrijfreden() == v1::UITSCHRIJFREDEN_OVERLIJDEN) {
      // Death reported by the school ends residence like a BRP overlijden.
      auto it = v.status_.begin();
      while (it != v.status_.end() && it->first <= m.datum) ++it;
      v.status_.insert(it, {m.datum, BrpStatus::kOverleden});
    }
    if (!m.mutatie->woongemeente().empty()) {
      v.school_gemeente_.emplace_back(m.datum, m.mutatie->woongemeente());
    }
  }
  for (const MeldingFeit& m : feiten.meldingen) {
    if (!m.melding->woongemeente().empty()) {
      v.school_gemeente_.emplace_back(m.meldingsdatum, m.melding->woongemeente());
    }
  }
  std::stable_sort(v.school_gemeente_.begin(), v.school_gemeente_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return v;
}

BrpStatus Verblijf::StatusOp(absl::CivilDay day) const {
  BrpStatus s = BrpStatus::kIngezetene;
  for (const auto& [d, st] : status_) {
    if (d > day) break;
    if (s == BrpStatus::kOverleden) break;
    s = st;
  }
  return s;
}

std::string Verblijf::WoongemeenteOp(absl::CivilDay day) const {
  if (const std::string* g = LaatsteTot(brp_gemeente_, day)) return *g;
  if (const std::string* g = LaatsteTot(school_gemeente_, day)) return *g;
  return "0000";
}

}  // namespace inbeeld::signaling

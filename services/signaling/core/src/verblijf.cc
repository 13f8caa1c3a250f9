#include "inbeeld/signaling/core/verblijf.h"

#include <algorithm>

namespace inbeeld::signaling {
namespace {

// Rank of a source on one date: the BRP is the register of residence
// (DOMAIN.md §4), the granting gemeente decided on the jongere recently, the
// school's administration may lag.
constexpr int kRangSchool = 0;
constexpr int kRangVrijstelling = 1;
constexpr int kRangBrp = 2;

}  // namespace

bool IsEchteGemeente(std::string_view code) {
  return !code.empty() && code != "0000" && code != "0998" && code != "1999";
}

Verblijf Verblijf::Bereken(const Feiten& feiten) {
  Verblijf v;
  auto noem = [&](absl::CivilDay datum, int rang, const std::string& gemeente) {
    // 0998 (emigratie) and 1999 (RNI, e.g. on a VOW) are no woongemeente for
    // routing: the last Dutch one stays responsible (DOMAIN.md §6).
    if (IsEchteGemeente(gemeente)) v.gemeenten_.push_back({datum, rang, gemeente});
  };
  for (const AdresFeit& a : feiten.adressen) {  // canonical (date) order
    const v1::AdresMutatie& m = *a.mutatie;
    switch (m.soort()) {
      case v1::ADRES_MUTATIE_SOORT_GEBOORTE:
      case v1::ADRES_MUTATIE_SOORT_IMMIGRATIE:
      case v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND:
        v.status_.emplace_back(a.datum, BrpStatus::kIngezetene);
        noem(a.datum, kRangBrp, m.gemeente());
        break;
      case v1::ADRES_MUTATIE_SOORT_VERBLIJFT_NIET_OP_ADRES:
        // Keeps residence (DOMAIN.md §6); no status change. The registering
        // gemeente is the last known woongemeente: it must look for the jongere.
        noem(a.datum, kRangBrp, m.gemeente());
        break;
      case v1::ADRES_MUTATIE_SOORT_EMIGRATIE:
        v.status_.emplace_back(a.datum, BrpStatus::kGeemigreerd);
        // A Dutch registering gemeente is the last woongemeente; 0998 is not.
        noem(a.datum, kRangBrp, m.gemeente());
        break;
      case v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN:
        v.status_.emplace_back(a.datum, BrpStatus::kVow);
        // The gemeente that struck the jongere off stays responsible for the
        // search; 1999 is not a gemeente.
        noem(a.datum, kRangBrp, m.gemeente());
        break;
      case v1::ADRES_MUTATIE_SOORT_OVERLIJDEN:
        v.status_.emplace_back(a.datum, BrpStatus::kOverleden);
        break;
      default:
        break;
    }
  }
  for (const VrijstellingFeit& vf : feiten.vrijstellingen) {
    // The gemeente that granted a vrijstelling is the jongere's woongemeente
    // when it granted it (art. 5: the college of the woongemeente decides).
    noem(vf.van, kRangVrijstelling, vf.vrijstelling->gemeente());
  }
  for (const MutatieFeit& m : feiten.mutaties) {
    if (m.mutatie->soort() == v1::MUTATIE_SOORT_UITSCHRIJVING &&
        m.mutatie->uitschrijfreden() == v1::UITSCHRIJFREDEN_OVERLIJDEN) {
      // Death reported by the school ends residence like a BRP overlijden.
      auto it = v.status_.begin();
      while (it != v.status_.end() && it->first <= m.datum) ++it;
      v.status_.insert(it, {m.datum, BrpStatus::kOverleden});
    }
    noem(m.datum, kRangSchool, m.mutatie->woongemeente());
  }
  for (const MeldingFeit& m : feiten.meldingen) noem(m.meldingsdatum, kRangSchool, m.melding->woongemeente());
  std::stable_sort(v.gemeenten_.begin(), v.gemeenten_.end(), [](const Genoemd& a, const Genoemd& b) {
    return a.datum != b.datum ? a.datum < b.datum : a.rang < b.rang;
  });
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
  if (gemeenten_.empty()) return "0000";
  const Genoemd* laatste = &gemeenten_.front();  // none dated <= day yet: the first named
  for (const Genoemd& g : gemeenten_) {
    if (g.datum > day) break;
    laatste = &g;
  }
  return laatste->gemeente;
}

}  // namespace inbeeld::signaling

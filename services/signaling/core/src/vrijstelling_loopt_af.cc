// VRIJSTELLING_LOOPT_AF: see vrijstelling_loopt_af.h.
#include "inbeeld/signaling/core/vrijstelling_loopt_af.h"

#include <algorithm>

#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/signal_ids.h"
#include "inbeeld/signaling/core/tijdlijn.h"

namespace inbeeld::signaling {

std::optional<absl::CivilDay> LooptAfDatum(const VrijstellingFeit& v, const CoreConfig& config) {
  if (!v.tot) return std::nullopt;
  const absl::CivilDay eerste_dag_zonder = *v.tot + 1;
  return std::max(eerste_dag_zonder - config.vrijstelling_loopt_af_days, v.van);
}

void VoegLooptAfDagenToe(const std::vector<VrijstellingFeit>& vrijstellingen, const CoreConfig& config,
                         std::vector<absl::CivilDay>* dagen) {
  for (const VrijstellingFeit& v : vrijstellingen) {
    if (std::optional<absl::CivilDay> d = LooptAfDatum(v, config)) dagen->push_back(*d);
  }
}

std::vector<v1::Signaal> Tijdlijn::VrijstellingenLopenAf(absl::CivilDay day, BrpStatus brp) const {
  std::vector<v1::Signaal> out;
  if (!plicht_ || brp != BrpStatus::kIngezetene) return out;
  for (const VrijstellingFeit& v : feiten_.vrijstellingen) {
    const std::optional<absl::CivilDay> datum = LooptAfDatum(v, config_);
    if (!datum || *datum != day) continue;
    const absl::CivilDay eerste_dag_zonder = *v.tot + 1;
    // Still plichtig then (not 18, no startkwalificatie, volledige leerplicht
    // or kwalificatieplicht), and nothing to go to: no enrolment active on
    // that day (one starting by then is active) and no other vrijstelling
    // that applies then (art. 15 only during kwalificatieplicht).
    if (!plicht_->Plichtig(eerste_dag_zonder)) continue;
    if (IngeschrevenOp(inschrijvingen_, eerste_dag_zonder)) continue;
    if (plicht_->Vrijgesteld(eerste_dag_zonder)) continue;
    v1::Signaal s = Basis(v1::SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF, day, "vrijstelling.loopt_af",
                          plicht_->Basis(eerste_dag_zonder).artikel, {v.ref});
    // Once per vrijstelling: the id depends on the vrijstelling only.
    s.set_signaal_id(SignaalId(pseudoniem_, s.soort(), v.ref, ""));
    s.set_begindatum(util::FormatDate(v.van));
    s.set_einddatum(util::FormatDate(*v.tot));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace inbeeld::signaling

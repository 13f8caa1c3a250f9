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

void Tijdlijn::VrijstellingenLopenAf(
    absl::CivilDay day, BrpStatus brp,
    absl::FunctionRef<void(const std::string& id, absl::FunctionRef<v1::Signaal()> bouw)> emit) const {
  if (!plicht_ || brp != BrpStatus::kIngezetene) return;
  for (size_t k = 0; k < feiten_.vrijstellingen.size(); ++k) {
    const VrijstellingFeit& v = feiten_.vrijstellingen[k];
    const std::optional<absl::CivilDay>& datum = loopt_af_[k];
    if (!datum || *datum != day) continue;
    const absl::CivilDay eerste_dag_zonder = *v.tot + 1;
    // Still plichtig then (not 18, no startkwalificatie, volledige leerplicht
    // or kwalificatieplicht), and nothing to go to: no enrolment active on
    // that day (one starting by then is active) and no other vrijstelling
    // that applies then (art. 15 only during kwalificatieplicht).
    if (!plicht_->Plichtig(eerste_dag_zonder)) continue;
    if (IngeschrevenOp(inschrijvingen_, eerste_dag_zonder)) continue;
    if (plicht_->Vrijgesteld(eerste_dag_zonder)) continue;
    // Once per vrijstelling: the id depends on the vrijstelling only.
    const std::string id = SignaalId(pseudoniem_, v1::SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF, v.ref, "");
    emit(id, [&] {
      v1::Signaal s = Basis(v1::SIGNAAL_SOORT_VRIJSTELLING_LOOPT_AF, day, "vrijstelling.loopt_af",
                            std::string(plicht_->Basis(eerste_dag_zonder).artikel), {v.ref});
      s.set_signaal_id(id);
      s.set_begindatum(util::FormatDate(v.van));
      s.set_einddatum(util::FormatDate(*v.tot));
      return s;
    });
  }
}

}  // namespace inbeeld::signaling

#include "ops_events.h"

#include "absl/strings/str_cat.h"
#include "inbeeld/cli/demo_scenario.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::ops_test {

v1::VerzuimMelding TestMelding(int seed, absl::CivilDay today, const std::string& id_prefix) {
  v1::VerzuimMelding m;
  m.set_melding_id(absl::StrCat(id_prefix, "-", seed));
  m.set_bron("05KO");
  m.mutable_leerling()->set_bsn(cli::SyntheticBsn(seed));
  // 14 years old: leerplichtig (art. 3 Leerplichtwet 1969).
  m.set_geboortedatum(util::FormatDate(absl::CivilDay(today.year() - 14, today.month(), 1) - 10));
  m.set_brin("05KO");
  m.set_vestiging("00");
  m.set_woongemeente("0363");
  m.set_soort(v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN);
  m.set_meldingsdatum(util::FormatDate(today - 2));
  m.set_begindatum(util::FormatDate(today - 30));
  m.set_verzuim_uren(17);
  m.set_verzuim_dagen(5);
  m.set_actie_gemeente_gewenst(true);
  m.set_school_actie(v1::SCHOOL_ACTIE_GESPREK_OUDERS);
  return m;
}

}  // namespace inbeeld::ops_test

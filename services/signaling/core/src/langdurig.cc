// ABSOLUUT_VERZUIM_LANGDURIG: see langdurig.h.
#include "inbeeld/signaling/core/langdurig.h"

#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/tijdlijn.h"

namespace inbeeld::signaling {

v1::Signaal Tijdlijn::Langdurig(const AvZaak& zaak, absl::CivilDay day,
                                std::vector<std::string> oorzaak) const {
  v1::Signaal s = Basis(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_LANGDURIG, day, "absoluut_verzuim.langdurig",
                        AvArtikelVan(zaak), std::move(oorzaak));
  s.set_signaal_id(LangdurigId(zaak));
  s.set_begindatum(util::FormatDate(zaak.begindatum));
  s.set_duur_dagen(static_cast<uint32_t>(day - zaak.begindatum));
  // A continuing signal: to every organisation holding the case (DOMAIN.md §6).
  MarkeerZaak(zaak.signaal_id, zaak.routes, &s);
  return s;
}

}  // namespace inbeeld::signaling

#include "inbeeld/routing/router.h"

#include "absl/strings/str_cat.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::routing {
namespace {

std::string_view OrUnknown(const std::string& code) {
  return code.empty() ? std::string_view("0000") : std::string_view(code);
}

}  // namespace

absl::StatusOr<Routering> RouteSignaal(const OrganisatieTabel& tabel,
                                       const v1::Signaal& signaal) {
  absl::StatusOr<absl::CivilDay> peildatum = util::ParseDate(signaal.peildatum());
  if (!peildatum.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("peildatum \"", signaal.peildatum(), "\" is not a date"));
  }
  const bool achttien_plus = signaal.achttien_plus();
  RouteResult nieuw = tabel.Route(OrUnknown(signaal.woongemeente()), *peildatum, achttien_plus);

  std::vector<Organisatie> bestemmingen = nieuw.organisaties;
  Routering routering;
  routering.ambigu = nieuw.ambigu;
  routering.onbekend = nieuw.onbekend;
  std::string vorige_organisatie;
  if (signaal.soort() == v1::SIGNAAL_SOORT_OVERDRACHT) {
    // DOMAIN.md §6: both organisations are told, once when they are the same.
    RouteResult oud =
        tabel.Route(OrUnknown(signaal.vorige_woongemeente()), *peildatum, achttien_plus);
    routering.ambigu = routering.ambigu || oud.ambigu;
    routering.onbekend = routering.onbekend || oud.onbekend;
    vorige_organisatie = oud.organisaties.front().id;
    for (const Organisatie& org : oud.organisaties) {
      bool present = false;
      for (const Organisatie& b : bestemmingen) present = present || b.id == org.id;
      if (!present) bestemmingen.push_back(org);
    }
  }

  for (const Organisatie& org : bestemmingen) {
    Aflevering aflevering;
    aflevering.organisatie_id = org.id;
    aflevering.signaal = signaal;
    aflevering.signaal.set_organisatie(org.id);
    aflevering.signaal.set_route_ambigu(routering.ambigu);
    if (!vorige_organisatie.empty()) aflevering.signaal.set_vorige_organisatie(vorige_organisatie);
    routering.afleveringen.push_back(std::move(aflevering));
  }
  return routering;
}

}  // namespace inbeeld::routing

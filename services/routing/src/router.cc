#include "inbeeld/routing/router.h"

#include "absl/strings/str_cat.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::routing {
namespace {

std::string_view OrUnknown(const std::string& code) {
  return code.empty() ? std::string_view("0000") : std::string_view(code);
}

// One table lookup whose organisations the signal goes to.
struct Bestemming {
  RouteResult route;
  // The code was 0000/0998/1999 (or empty): it names no gemeente.
  bool bijzonder = false;
};

}  // namespace

absl::StatusOr<Routering> RouteSignaal(const OrganisatieTabel& tabel,
                                       const v1::Signaal& signaal) {
  absl::StatusOr<absl::CivilDay> peildatum = util::ParseDate(signaal.peildatum());
  if (!peildatum.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("peildatum \"", signaal.peildatum(), "\" is not a date"));
  }
  const bool achttien_plus = signaal.achttien_plus();
  auto zoek = [&](const std::string& gemeente, absl::CivilDay datum, bool plus) {
    const std::string_view code = OrUnknown(gemeente);
    return Bestemming{tabel.Route(code, datum, plus), IsBijzondereGemeentecode(code)};
  };

  // The woongemeente on the peildatum decides; achttien_plus picks the 18-plus
  // organisation (art. 4a/4b).
  std::vector<Bestemming> bestemmingen = {zoek(signaal.woongemeente(), *peildatum, achttien_plus)};
  std::string vorige_organisatie;
  if (signaal.soort() == v1::SIGNAAL_SOORT_OVERDRACHT) {
    // DOMAIN.md §6: both organisations are told, once when they are the same.
    Bestemming oud = zoek(signaal.vorige_woongemeente(), *peildatum, achttien_plus);
    if (!oud.bijzonder) vorige_organisatie = oud.route.organisaties.front().id;
    bestemmingen.push_back(std::move(oud));
  }
  // A signal that closes or continues a case also goes to every organisation
  // the case's signals went to (the opening signal, each OVERDRACHT), each
  // resolved as it was then: on its peildatum, 18-plus or not (DOMAIN.md §6).
  for (const v1::ZaakRoute& zr : signaal.zaak_routes()) {
    absl::StatusOr<absl::CivilDay> datum = util::ParseDate(zr.peildatum());
    bestemmingen.push_back(zoek(zr.woongemeente(), datum.ok() ? *datum : *peildatum, zr.achttien_plus()));
  }
  // 0000, 0998 and 1999 name no gemeente: they send a copy to "onbekend" only
  // when nothing else can act on the signal (e.g. an OVERDRACHT from 0000 or a
  // closing signal dated after emigratie from an older producer).
  bool echte_bestemming = false;
  for (const Bestemming& b : bestemmingen) echte_bestemming = echte_bestemming || !b.bijzonder;

  Routering routering;
  std::vector<Organisatie> organisaties;
  for (const Bestemming& b : bestemmingen) {
    if (b.bijzonder && echte_bestemming) continue;
    routering.ambigu = routering.ambigu || b.route.ambigu;
    for (const Organisatie& org : b.route.organisaties) {
      bool present = false;
      for (const Organisatie& o : organisaties) present = present || o.id == org.id;
      if (!present) organisaties.push_back(org);
    }
  }

  for (const Organisatie& org : organisaties) {
    routering.onbekend = routering.onbekend || org.id == kOnbekendOrganisatieId;
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

#include "inbeeld/routing/router.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
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

absl::StatusOr<Bestemmingen> BestemmingenVan(const OrganisatieTabel& tabel, const v1::Signaal& signaal) {
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

  Bestemmingen uit;
  uit.vorige_organisatie = std::move(vorige_organisatie);
  for (const Bestemming& b : bestemmingen) {
    if (b.bijzonder && echte_bestemming) continue;
    uit.ambigu = uit.ambigu || b.route.ambigu;
    for (const Organisatie& org : b.route.organisaties) {
      if (std::find(uit.organisatie_ids.begin(), uit.organisatie_ids.end(), org.id) != uit.organisatie_ids.end()) {
        continue;
      }
      uit.organisatie_ids.push_back(org.id);
      uit.onbekend = uit.onbekend || org.id == kOnbekendOrganisatieId;
    }
  }
  return uit;
}

void VulAflevering(const Bestemmingen& bestemmingen, const std::string& organisatie_id, v1::Signaal* signaal) {
  signaal->set_organisatie(organisatie_id);
  signaal->set_route_ambigu(bestemmingen.ambigu);
  if (!bestemmingen.vorige_organisatie.empty()) signaal->set_vorige_organisatie(bestemmingen.vorige_organisatie);
}

namespace {

void AppendVarint(uint64_t v, std::string* out) {
  using google::protobuf::io::CodedOutputStream;
  uint8_t buf[10];  // the most a 64-bit varint takes
  const uint8_t* end = CodedOutputStream::WriteVarint64ToArray(v, buf);
  out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(end - buf));
}

// A field's key on the wire: its number and wire type (0 varint, 2 length-delimited).
void AppendTag(int field, int wire_type, std::string* out) {
  AppendVarint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type), out);
}

void AppendString(int field, std::string_view value, std::string* out) {
  AppendTag(field, 2, out);
  AppendVarint(value.size(), out);
  out->append(value);
}

}  // namespace

void AppendAfleveringVelden(const Bestemmingen& bestemmingen, std::string_view organisatie_id, std::string* bytes) {
  AppendString(v1::Signaal::kOrganisatieFieldNumber, organisatie_id, bytes);
  // Written also when false: the received signal may carry true.
  AppendTag(v1::Signaal::kRouteAmbiguFieldNumber, 0, bytes);
  AppendVarint(bestemmingen.ambigu ? 1 : 0, bytes);
  if (!bestemmingen.vorige_organisatie.empty()) {
    AppendString(v1::Signaal::kVorigeOrganisatieFieldNumber, bestemmingen.vorige_organisatie, bytes);
  }
}

absl::StatusOr<Routering> RouteSignaal(const OrganisatieTabel& tabel, const v1::Signaal& signaal) {
  absl::StatusOr<Bestemmingen> bestemmingen = BestemmingenVan(tabel, signaal);
  if (!bestemmingen.ok()) return bestemmingen.status();
  Routering routering;
  routering.ambigu = bestemmingen->ambigu;
  routering.onbekend = bestemmingen->onbekend;
  for (const std::string& id : bestemmingen->organisatie_ids) {
    Aflevering aflevering;
    aflevering.organisatie_id = id;
    aflevering.signaal = signaal;
    VulAflevering(*bestemmingen, id, &aflevering.signaal);
    routering.afleveringen.push_back(std::move(aflevering));
  }
  return routering;
}

}  // namespace inbeeld::routing

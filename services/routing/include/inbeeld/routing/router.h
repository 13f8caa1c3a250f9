#pragma once
// Signaal → the records for inbeeld.aflevering.v1: one copy per responsible
// organisation (DOMAIN.md §4, §6). Pure: no Kafka, no clock; the routing date
// is the signal's peildatum ("go to the organisation responsible on the
// signal date").
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "inbeeld/routing/organisatie_tabel.h"
#include "inbeeld/routing/tabel_watcher.h"
#include "inbeeld/v1/signaal.pb.h"

namespace inbeeld::routing {

struct Aflevering {
  // The Kafka key on inbeeld.aflevering.v1.
  std::string organisatie_id;
  // The signal with organisatie, vorige_organisatie and route_ambigu filled.
  v1::Signaal signaal;
};

struct Routering {
  std::vector<Aflevering> afleveringen;
  bool ambigu = false;    // a split gemeente's old code was involved
  bool onbekend = false;  // at least one copy went to "onbekend"
};

// Routes one signal with `tabel`:
// - the woongemeente ("" counts as 0000) decides; achttien_plus signals go to
//   the 18-plus organisation (RMC-regio / Doorstroompunt, art. 4a/4b);
// - OVERDRACHT goes to the new and the old (vorige_woongemeente) organisation,
//   once when they are the same; vorige_organisatie names the old one;
// - a signal that closes or continues a case (zaak_routes set) also goes to
//   the organisation of every entry of zaak_routes, each resolved on its own
//   peildatum and achttien_plus: every organisation that holds the case;
// - 0000/0998/1999 (or empty) name no gemeente: their copy to "onbekend" is
//   left out when the signal reaches another organisation;
// - a split old code gives one copy per successor organisation, route_ambigu.
// INVALID_ARGUMENT when peildatum is not a date (the record goes to the DLQ).
absl::StatusOr<Routering> RouteSignaal(const OrganisatieTabel& tabel, const v1::Signaal& signaal);

// RouteSignaal without the copies, for a caller that serializes each copy
// once (routing's loop): the organisations in the order of `afleveringen`,
// and what each copy gets (VulAflevering). A copy of the signal per
// organisation was about a tenth of routing's loop in a profile.
struct Bestemmingen {
  std::vector<std::string> organisatie_ids;
  std::string vorige_organisatie;  // OVERDRACHT: the old organisation; "" leaves the signal's own
  bool ambigu = false;             // as Routering::ambigu
  bool onbekend = false;           // as Routering::onbekend
};
absl::StatusOr<Bestemmingen> BestemmingenVan(const OrganisatieTabel& tabel, const v1::Signaal& signaal);
// Makes `signaal` the copy for `organisatie_id`: organisatie, route_ambigu
// and vorige_organisatie set as in RouteSignaal's afleveringen.
void VulAflevering(const Bestemmingen& bestemmingen, const std::string& organisatie_id, v1::Signaal* signaal);
// Appends to a serialized signal what VulAflevering sets, so that the bytes
// parse as its copy for `organisatie_id`. Protobuf takes the last value of a
// field that occurs more than once, so routing's loop copies the bytes it
// received and appends a few, instead of serializing the whole signal again
// for every organisation (a tenth of the loop in a profile).
void AppendAfleveringVelden(const Bestemmingen& bestemmingen, std::string_view organisatie_id, std::string* bytes);

// RouteSignaal with the table snapshot current at the call.
class Router {
 public:
  explicit Router(TabelBron bron) : bron_(std::move(bron)) {}
  absl::StatusOr<Routering> Route(const v1::Signaal& signaal) const {
    std::shared_ptr<const OrganisatieTabel> tabel = bron_();
    return RouteSignaal(*tabel, signaal);
  }

 private:
  TabelBron bron_;
};

}  // namespace inbeeld::routing

#include "inbeeld/signaling/leerplicht_service.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/feiten.h"

namespace inbeeld::signaling {
namespace {

constexpr int kLaatsteSignalen = 10;

// The signals of the jongere's facts up to `peildatum`, recomputed by the core
// as `inbeeld replay` does (each day's events, then the end of that day), so
// with the ids the live pipeline gives them; in date order.
std::vector<v1::Signaal> SignalenTot(const google::protobuf::RepeatedPtrField<v1::Event>& feiten,
                                     const std::string& pseudoniem, absl::CivilDay peildatum,
                                     const CoreConfig& config) {
  Jongere herberekend;
  std::vector<v1::Signaal> signalen;
  auto voeg_toe = [&](std::vector<v1::Signaal> nieuw) {
    for (v1::Signaal& s : nieuw) signalen.push_back(std::move(s));
  };
  auto datum = [&](int i) -> std::optional<absl::CivilDay> {
    absl::StatusOr<absl::CivilDay> d = DatumVan(feiten[i]);
    return d.ok() ? std::optional<absl::CivilDay>(*d) : std::nullopt;
  };
  for (int i = 0; i < feiten.size(); ++i) {
    std::optional<absl::CivilDay> dag = datum(i);
    if (dag.has_value() && *dag > peildatum) break;  // canonical order: by date
    voeg_toe(herberekend.Apply(feiten[i], pseudoniem, config));
    std::optional<absl::CivilDay> volgende = i + 1 < feiten.size() ? datum(i + 1) : std::nullopt;
    if (dag.has_value() && volgende != dag) voeg_toe(herberekend.AdvanceTo(*dag, pseudoniem, config));
  }
  if (std::optional<absl::CivilDay> tot = herberekend.EvaluatedThrough(); tot && *tot < peildatum) {
    voeg_toe(herberekend.AdvanceTo(peildatum, pseudoniem, config));
  }
  const std::string peil = util::FormatDate(peildatum);
  std::vector<v1::Signaal> gehouden;
  for (v1::Signaal& s : signalen) {
    if (s.peildatum() > peil) continue;
    gehouden.push_back(std::move(s));
  }
  std::stable_sort(gehouden.begin(), gehouden.end(), [](const v1::Signaal& a, const v1::Signaal& b) {
    return a.peildatum() < b.peildatum();
  });
  return gehouden;
}

// Cases opened by ABSOLUUT_VERZUIM or UIT_BEELD and not closed by their
// OPGELOST or WEER_IN_BEELD on peildatum, and the latest signals; with
// `uitgegeven` (stored state) only the signals already emitted are listed.
void VulZakenEnSignalen(const std::vector<v1::Signaal>& signalen,
                        const google::protobuf::RepeatedPtrField<std::string>* uitgegeven,
                        v1::StatusResponse* resp) {
  std::vector<v1::OpenZaak> zaken;
  for (const v1::Signaal& s : signalen) {
    switch (s.soort()) {
      case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM:
      case v1::SIGNAAL_SOORT_UIT_BEELD: {
        v1::OpenZaak& z = zaken.emplace_back();
        z.set_soort(s.soort());
        z.set_signaal_id(s.signaal_id());
        z.set_begindatum(s.begindatum().empty() ? s.peildatum() : s.begindatum());
        z.set_woongemeente(s.woongemeente());
        break;
      }
      case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST:
      case v1::SIGNAAL_SOORT_WEER_IN_BEELD:
        std::erase_if(zaken, [&](const v1::OpenZaak& z) { return z.signaal_id() == s.zaak_signaal_id(); });
        break;
      case v1::SIGNAAL_SOORT_OVERDRACHT:
        for (v1::OpenZaak& z : zaken) z.set_woongemeente(s.woongemeente());
        break;
      default:
        break;
    }
  }
  for (v1::OpenZaak& z : zaken) *resp->add_open_zaken() = std::move(z);
  for (auto it = signalen.rbegin(); it != signalen.rend() && resp->laatste_signalen_size() < kLaatsteSignalen; ++it) {
    // uitgegeven_signaal_ids is sorted and holds each id's Vingerafdruk (JongereState).
    if (uitgegeven != nullptr &&
        !std::binary_search(uitgegeven->begin(), uitgegeven->end(), Vingerafdruk(it->signaal_id()))) {
      continue;
    }
    v1::SignaalOverzicht* o = resp->add_laatste_signalen();
    o->set_signaal_id(it->signaal_id());
    o->set_soort(it->soort());
    o->set_peildatum(it->peildatum());
    o->set_regel(it->regel());
    o->set_woongemeente(it->woongemeente());
    o->set_zaak_signaal_id(it->zaak_signaal_id());
  }
}

}  // namespace

grpc::Status LeerplichtServiceImpl::Status(grpc::ServerContext*, const v1::StatusRequest* req,
                                           v1::StatusResponse* resp) {
  if (!req->has_leerling() || req->leerling().id_case() == v1::Leerling::ID_NOT_SET) {
    return grpc::Status(grpc::INVALID_ARGUMENT, "leerling: is required: set bsn or onderwijsnummer");
  }
  const v1::Leerling& l = req->leerling();
  if (l.has_bsn() ? !identity::IsValidBsn(l.bsn()) : !identity::IsValidOnderwijsnummer(l.onderwijsnummer())) {
    return grpc::Status(grpc::INVALID_ARGUMENT,
                        l.has_bsn() ? "leerling.bsn: is not a valid BSN" : "leerling.onderwijsnummer: is not valid");
  }
  absl::CivilDay peildatum = dates_.Today();
  if (!req->peildatum().empty()) {
    auto d = util::ParseDate(req->peildatum());
    if (!d.ok()) return grpc::Status(grpc::INVALID_ARGUMENT, absl::StrCat("peildatum: ", d.status().message()));
    peildatum = *d;
  }
  const std::string pseudoniem = pseudonymizer_.Of(l);
  Jongere jongere;
  const google::protobuf::RepeatedPtrField<std::string>* uitgegeven = nullptr;
  if (req->feiten_size() > 0) {
    for (int i = 0; i < req->feiten_size(); ++i) {
      const v1::Event& e = req->feiten(i);
      identity::Violations v = identity::Validate(e);
      if (!v.empty()) {
        return grpc::Status(grpc::INVALID_ARGUMENT, absl::StrCat("feiten[", i, "]: ", identity::Describe(v)));
      }
      if (pseudonymizer_.Of(*identity::RefOf(e).leerling) != pseudoniem) {
        return grpc::Status(grpc::INVALID_ARGUMENT, absl::StrCat("feiten[", i, "]: is about another leerling"));
      }
      jongere.Apply(e, pseudoniem, config_);
    }
  } else {
    auto stored = store_.FindJongere(pseudoniem);
    if (!stored.ok()) return grpc::Status(grpc::UNAVAILABLE, std::string(stored.status().message()));
    if (!stored->has_value()) {
      return grpc::Status(grpc::NOT_FOUND, "no events about this leerling are known here; pass feiten to compute");
    }
    jongere = Jongere::FromState(**stored);
    uitgegeven = &jongere.state().uitgegeven_signaal_ids();
  }
  *resp = jongere.Status(peildatum, config_).ToProto();
  // The facts in canonical order, as the live pipeline applied them.
  VulZakenEnSignalen(SignalenTot(jongere.state().feiten(), pseudoniem, peildatum, config_), uitgegeven, resp);
  return grpc::Status::OK;
}

}  // namespace inbeeld::signaling

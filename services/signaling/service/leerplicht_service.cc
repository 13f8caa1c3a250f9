#include "leerplicht_service.h"

#include "absl/strings/str_cat.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::signaling {

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
  }
  *resp = jongere.Status(peildatum, config_).ToProto();
  return grpc::Status::OK;
}

}  // namespace inbeeld::signaling

#include "inbeeld/signaling/telling_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/util/log.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/telling/telling.h"

namespace inbeeld::signaling {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument: return grpc::Status(grpc::INVALID_ARGUMENT, std::string(s.message()));
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kUnauthenticated: return grpc::Status(grpc::UNAUTHENTICATED, std::string(s.message()));
    case absl::StatusCode::kPermissionDenied:
      return grpc::Status(grpc::PERMISSION_DENIED, std::string(s.message()));
    default: return grpc::Status(grpc::INTERNAL, std::string(s.message()));
  }
}

}  // namespace

grpc::Status TellingServiceImpl::Organisatie(grpc::ServerContext& ctx, const v1::TellingRequest& req,
                                             std::string* organisatie) const {
  if (plaintext_) {
    if (req.organisatie().empty()) {
      return grpc::Status(grpc::INVALID_ARGUMENT, "organisatie is required (plaintext mode has no client certificate)");
    }
    *organisatie = req.organisatie();
    return grpc::Status::OK;
  }
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr || identiteit_ == nullptr) {
    return grpc::Status(grpc::UNAUTHENTICATED, "a client certificate is required");
  }
  absl::StatusOr<std::string> wie = identiteit_->Authenticeer(*auth);
  if (!wie.ok()) return ToGrpc(wie.status());
  *organisatie = *wie;
  return grpc::Status::OK;
}

grpc::Status TellingServiceImpl::Telling(grpc::ServerContext* ctx, const v1::TellingRequest* req,
                                         v1::TellingResponse* resp) {
  if (tabel_ == nullptr) {
    return grpc::Status(grpc::UNAVAILABLE, "no organisation table loaded (--organisaties, --herindelingen)");
  }
  absl::StatusOr<Schooljaar> jaar = Schooljaar::Parse(req->schooljaar());
  if (!jaar.ok()) return grpc::Status(grpc::INVALID_ARGUMENT, absl::StrCat("schooljaar: ", jaar.status().message()));
  std::string organisatie;
  if (grpc::Status s = Organisatie(*ctx, *req, &organisatie); !s.ok()) return s;

  TellingFilter filter;
  filter.gemeenten.assign(req->gemeenten().begin(), req->gemeenten().end());
  filter.organisatie = req->organisatie();
  // Unknown names first (they say so), then whose they are.
  if (absl::Status s = ControleerFilter(*tabel_, filter); !s.ok()) return ToGrpc(s);
  if (!req->organisatie().empty() && req->organisatie() != organisatie) {
    util::LogWarn("telling for another organisation refused", {{"organisatie", organisatie}});
    return grpc::Status(grpc::PERMISSION_DENIED,
                        absl::StrCat("the client certificate identifies organisation ", organisatie,
                                     "; it may only ask for its own telling"));
  }
  const std::set<std::string> eigen = GemeentenVanOrganisatie(*tabel_, organisatie);
  if (eigen.empty()) {
    return grpc::Status(grpc::PERMISSION_DENIED,
                        absl::StrCat("organisation ", organisatie, " is responsible for no gemeente"));
  }
  for (const std::string& g : filter.gemeenten) {
    if (!eigen.contains(g)) {
      util::LogWarn("telling for another organisation's gemeente refused",
                    {{"organisatie", organisatie}, {"gemeente", g}});
      return grpc::Status(grpc::PERMISSION_DENIED,
                          absl::StrCat("gemeente ", g, " is not one of organisation ", organisatie, "'s gemeenten"));
    }
  }
  filter.organisatie = organisatie;

  // Everything that happened through yesterday (the service's horizon).
  const absl::CivilDay tot = std::min(jaar->tot(), dates_.Today() - 1);
  if (tot < jaar->van()) {
    return grpc::Status(grpc::INVALID_ARGUMENT, absl::StrCat("schooljaar ", jaar->Naam(), " has not started yet"));
  }
  TellingOpbouw opbouw(*tabel_, *jaar, tot, config_);
  store_.ForEachJongere([&](const std::string& pseudoniem, const internal::v1::JongereState& state) {
    opbouw.Voeg(ParseFeiten(state.feiten()), pseudoniem);
  });
  *resp = opbouw.Resultaat(filter);
  util::LogInfo("telling", {{"organisatie", organisatie},
                            {"schooljaar", jaar->Naam()},
                            {"jongeren", std::to_string(opbouw.jongeren())}});
  return grpc::Status::OK;
}

}  // namespace inbeeld::signaling

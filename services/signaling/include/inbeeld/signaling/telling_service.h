#pragma once
// TellingService.Telling: the leerplichttelling (art. 25; DOMAIN.md §8) live
// from the signaling service's state, computed by the same code as the offline
// `inbeeld telling FILE` (services/signaling/telling). An organisation,
// identified by the OIN in its client certificate (organisaties.csv), gets
// only its own gemeenten; asking for another's is PERMISSION_DENIED.
#include <memory>

#include "inbeeld/delivery/organisatie_identiteit.h"
#include "inbeeld/routing/organisatie_tabel.h"
#include "inbeeld/v1/telling_service.grpc.pb.h"
#include "inbeeld/signaling/core/config.h"
#include "inbeeld/signaling/signaling_service.h"
#include "inbeeld/signaling/signaling_store.h"

namespace inbeeld::signaling {

class TellingServiceImpl final : public v1::TellingService::Service {
 public:
  // `tabel` null: UNAVAILABLE (no organisation table configured).
  // `plaintext`: no client certificates (local development only): the
  // organisation is taken from the request and is then required.
  TellingServiceImpl(const SignalingStore& store, std::shared_ptr<const routing::OrganisatieTabel> tabel,
                     std::shared_ptr<const delivery::OrganisatieIdentiteit> identiteit, const DateSource& dates,
                     CoreConfig config, bool plaintext)
      : store_(store),
        tabel_(std::move(tabel)),
        identiteit_(std::move(identiteit)),
        dates_(dates),
        config_(config),
        plaintext_(plaintext) {}

  grpc::Status Telling(grpc::ServerContext* ctx, const v1::TellingRequest* req, v1::TellingResponse* resp) override;

 private:
  // The caller's organisation, or the error to return.
  grpc::Status Organisatie(grpc::ServerContext& ctx, const v1::TellingRequest& req, std::string* organisatie) const;

  const SignalingStore& store_;
  const std::shared_ptr<const routing::OrganisatieTabel> tabel_;
  const std::shared_ptr<const delivery::OrganisatieIdentiteit> identiteit_;
  const DateSource& dates_;
  const CoreConfig config_;
  const bool plaintext_;
};

}  // namespace inbeeld::signaling

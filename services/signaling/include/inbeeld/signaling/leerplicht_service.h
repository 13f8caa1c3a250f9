#pragma once
// LeerplichtService.Status: the obligation status of a jongere on a date, from
// the stored state or from facts in the request.
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/v1/leerplicht_service.grpc.pb.h"
#include "inbeeld/signaling/core/config.h"
#include "inbeeld/signaling/signaling_service.h"
#include "inbeeld/signaling/signaling_store.h"

namespace inbeeld::signaling {

class LeerplichtServiceImpl final : public v1::LeerplichtService::Service {
 public:
  LeerplichtServiceImpl(const SignalingStore& store, const identity::Pseudonymizer& pseudonymizer,
                        const DateSource& dates, CoreConfig config)
      : store_(store), pseudonymizer_(pseudonymizer), dates_(dates), config_(config) {}

  grpc::Status Status(grpc::ServerContext* ctx, const v1::StatusRequest* req, v1::StatusResponse* resp) override;

 private:
  const SignalingStore& store_;
  const identity::Pseudonymizer& pseudonymizer_;
  const DateSource& dates_;
  const CoreConfig config_;
};

}  // namespace inbeeld::signaling

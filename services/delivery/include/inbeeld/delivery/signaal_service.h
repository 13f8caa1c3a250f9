#pragma once
// inbeeld.v1.SignaalService: streams the signals routed to an organisation
// (inbeeld.aflevering.v1, keyed by organisation id) to that organisation,
// authenticated by its client certificate. See signaal_service.proto for the
// contract (at-least-once, cursor, cut-off).
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/delivery/metrics.h"
#include "inbeeld/delivery/organisatie_identiteit.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/signaal_service.grpc.pb.h"

namespace inbeeld::delivery {

class Abonnement;

struct SignaalServiceOptions {
  kafka::ClientOptions kafka;
  std::string topic = std::string(kafka::kTopicAflevering);
  // Messages held per subscriber before it is cut off.
  size_t buffer_capacity = 1000;
  // Dev only: no client certificate, the organisation comes from the request.
  bool plaintext = false;
  // How often a waiting handler checks for cancellation and shutdown.
  absl::Duration poll_interval = absl::Milliseconds(200);
  absl::Duration metadata_timeout = absl::Seconds(5);
};

class SignaalServiceImpl final : public v1::SignaalService::Service {
 public:
  SignaalServiceImpl(SignaalServiceOptions options,
                     std::shared_ptr<const OrganisatieIdentiteit> identiteit,
                     DeliveryMetrics& metrics);
  ~SignaalServiceImpl() override;

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::SignaalBericht>* writer) override;

  // Ends every open stream with UNAVAILABLE (clients resume from their last
  // cursor) and refuses new ones. Call before Server::Shutdown so that the
  // drain does not wait for endless streams.
  void Stop();

  int active_subscriptions() const;

 private:
  // The organisation the caller may read, or the gRPC error to return.
  grpc::Status Organisatie(grpc::ServerContext& context, const v1::SubscribeRequest& request,
                           std::string* organisatie) const;
  // Metric label: the id when the table knows it, else "overig" (bounded).
  std::string Label(const std::string& organisatie) const;

  const SignaalServiceOptions options_;
  const std::shared_ptr<const OrganisatieIdentiteit> identiteit_;
  DeliveryMetrics& metrics_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::set<Abonnement*> active_ ABSL_GUARDED_BY(mu_);
};

}  // namespace inbeeld::delivery

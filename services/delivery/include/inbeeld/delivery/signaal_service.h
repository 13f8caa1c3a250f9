#pragma once
// inbeeld.v1.SignaalService: streams the signals routed to an organisation
// (inbeeld.aflevering.v1, keyed by organisation id) to that organisation,
// authenticated by its client certificate. See signaal_service.proto for the
// contract (at-least-once, cursor, cut-off).
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/delivery/aflevering_reader.h"
#include "inbeeld/delivery/cursor.h"
#include "inbeeld/delivery/metrics.h"
#include "inbeeld/delivery/organisatie_identiteit.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/signaal_service.grpc.pb.h"

namespace inbeeld::delivery {

class Abonnement;
class FanOut;

struct SignaalServiceOptions {
  kafka::ClientOptions kafka;
  std::string topic = std::string(kafka::kTopicAflevering);
  // Messages held per subscriber; a subscriber that leaves the buffer full
  // for slow_subscriber_timeout is cut off.
  size_t buffer_capacity = 1000;
  absl::Duration slow_subscriber_timeout = absl::Seconds(30);
  // A cut-off subscriber that neither reads nor disconnects is cancelled
  // after this grace (it then sees CANCELLED instead of RESOURCE_EXHAUSTED).
  absl::Duration stuck_subscriber_grace = absl::Seconds(30);
  // Dev only: no client certificate, the organisation comes from the request.
  bool plaintext = false;
  // How often a waiting handler checks for cancellation and shutdown.
  absl::Duration poll_interval = absl::Milliseconds(200);
  absl::Duration metadata_timeout = absl::Seconds(5);
  // A record whose signaal_id a record of the same organisation carried
  // within this many offsets before it in its partition is a repeat and is
  // not delivered (RepeatWindow). Routing repeats at most its uncommitted
  // batches after a crash (--batch-size 500 signals).
  int64_t repeat_window = 5000;
  // false: every subscription on a Kafka reader of its own, as before the
  // shared reader (--shared-reader=false; the benchmark's baseline).
  bool share_reader = true;
  // Unset: ReaderSource::Kafka on `kafka` and `topic` (tests inject).
  ReaderSource readers;
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
  // Subscriptions fed by the shared reader right now (tests, benchmark).
  int attached_subscriptions();

 private:
  // The organisation the caller may read, or the gRPC error to return.
  grpc::Status Organisatie(grpc::ServerContext& context, const v1::SubscribeRequest& request,
                           std::string* organisatie) const;
  // Metric label: the id when the table knows it, else "overig" (bounded).
  std::string Label(const std::string& organisatie) const;

  // The shared tail reader, opened at the first subscription and again
  // after it failed. UNAVAILABLE while the topic cannot be read.
  absl::StatusOr<std::shared_ptr<FanOut>> SharedFanOut();

  const SignaalServiceOptions options_;
  const ReaderSource readers_;
  const std::shared_ptr<const OrganisatieIdentiteit> identiteit_;
  DeliveryMetrics& metrics_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::set<Abonnement*> active_ ABSL_GUARDED_BY(mu_);
  absl::Mutex fan_out_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::shared_ptr<FanOut> fan_out_ ABSL_GUARDED_BY(fan_out_mu_);
};

}  // namespace inbeeld::delivery

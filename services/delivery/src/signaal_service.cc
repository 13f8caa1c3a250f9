#include "inbeeld/delivery/signaal_service.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "inbeeld/delivery/abonnement.h"
#include "inbeeld/delivery/aflevering_reader.h"
#include "inbeeld/delivery/cursor.h"
#include "inbeeld/delivery/fan_out.h"
#include "inbeeld/util/log.h"

namespace inbeeld::delivery {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace

SignaalServiceImpl::SignaalServiceImpl(SignaalServiceOptions options,
                                       std::shared_ptr<const OrganisatieIdentiteit> identiteit,
                                       DeliveryMetrics& metrics)
    : options_(std::move(options)),
      readers_(options_.readers.open ? options_.readers
                                     : ReaderSource::Kafka(options_.kafka, options_.topic,
                                                           options_.metadata_timeout)),
      identiteit_(std::move(identiteit)),
      metrics_(metrics) {}

absl::StatusOr<std::shared_ptr<FanOut>> SignaalServiceImpl::SharedFanOut() {
  absl::MutexLock lock(&fan_out_mu_);
  if (fan_out_ != nullptr && fan_out_->status().ok()) return fan_out_;
  FanOut::Options fan_out_options;
  fan_out_options.repeat_window = options_.repeat_window;
  fan_out_options.poll_timeout = options_.poll_interval;
  fan_out_options.repeats_dropped = &metrics_.RepeatsDropped();
  absl::StatusOr<std::unique_ptr<FanOut>> opened = FanOut::Open(readers_, fan_out_options);
  if (!opened.ok()) return opened.status();
  fan_out_ = *std::move(opened);
  util::LogInfo("shared aflevering reader started");
  return fan_out_;
}

int SignaalServiceImpl::attached_subscriptions() {
  absl::MutexLock lock(&fan_out_mu_);
  return fan_out_ == nullptr ? 0 : fan_out_->attached();
}

SignaalServiceImpl::~SignaalServiceImpl() { Stop(); }

grpc::Status SignaalServiceImpl::Organisatie(grpc::ServerContext& context,
                                             const v1::SubscribeRequest& request,
                                             std::string* organisatie) const {
  if (options_.plaintext) {
    if (request.organisatie().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "organisatie is required (plaintext mode has no client certificate)");
    }
    *organisatie = request.organisatie();
    util::LogWarn("plaintext mode: organisation taken from the request, not authenticated",
                  {{"organisatie", Label(*organisatie)}});
    return grpc::Status::OK;
  }
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "a client certificate is required");
  }
  absl::StatusOr<std::string> geauthenticeerd = identiteit_->Authenticeer(*auth);
  if (!geauthenticeerd.ok()) return ToGrpc(geauthenticeerd.status());
  if (!request.organisatie().empty() && request.organisatie() != *geauthenticeerd) {
    util::LogWarn("subscription for another organisation refused",
                  {{"organisatie", *geauthenticeerd}, {"gevraagd", Label(request.organisatie())}});
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("the client certificate identifies organisation ",
                                     *geauthenticeerd, "; it may only subscribe to its own signals"));
  }
  *organisatie = *geauthenticeerd;
  return grpc::Status::OK;
}

std::string SignaalServiceImpl::Label(const std::string& organisatie) const {
  return identiteit_->IsBekend(organisatie) ? organisatie : "overig";
}

grpc::Status SignaalServiceImpl::Subscribe(grpc::ServerContext* context,
                                           const v1::SubscribeRequest* request,
                                           grpc::ServerWriter<v1::SignaalBericht>* writer) {
  std::string organisatie;
  if (grpc::Status s = Organisatie(*context, *request, &organisatie); !s.ok()) return s;
  absl::StatusOr<Cursor> cursor = DecodeCursor(request->cursor());
  if (!cursor.ok()) return ToGrpc(cursor.status());
  absl::StatusOr<std::shared_ptr<FanOut>> fan_out =
      options_.share_reader ? SharedFanOut() : std::shared_ptr<FanOut>();
  if (!fan_out.ok()) {
    util::LogWarn("aflevering topic not readable",
                  {{"organisatie", Label(organisatie)}, {"error", std::string(fan_out.status().message())}});
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("signals not available yet: ", fan_out.status().message()));
  }

  const std::string label = Label(organisatie);
  Abonnement::CutOffHandling cut_off;
  cut_off.slow_subscriber_timeout = options_.slow_subscriber_timeout;
  cut_off.on_cut_off = [this, label] {
    metrics_.CutOff(label).Increment();
    util::LogWarn("slow subscriber cut off", {{"organisatie", label}});
  };
  cut_off.stuck_grace = options_.stuck_subscriber_grace;
  cut_off.on_stuck = [context, label] {
    util::LogWarn("cut-off subscriber does not read; cancelling the call", {{"organisatie", label}});
    context->TryCancel();
  };
  Abonnement::Options abonnement_options;
  abonnement_options.buffer_capacity = options_.buffer_capacity;
  abonnement_options.poll_timeout = options_.poll_interval;
  abonnement_options.repeat_window = options_.repeat_window;
  abonnement_options.repeats_dropped = &metrics_.RepeatsDropped();
  abonnement_options.catch_up_readers = &metrics_.CatchUpReaders();
  Abonnement abonnement(organisatie, *cursor, readers_.open, *std::move(fan_out), abonnement_options,
                        std::move(cut_off));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "delivery is shutting down");
    active_.insert(&abonnement);
  }
  prometheus::Gauge& subscribers = metrics_.Subscribers(label);
  prometheus::Gauge& lag = metrics_.LagSeconds(label);
  prometheus::Counter& sent = metrics_.Sent(label);
  metrics_.CutOff(label);  // at 0 while subscribed: the cut-off panel shows 0, not "no data"
  subscribers.Increment();
  util::LogInfo("subscription started", {{"organisatie", label}, {"cursor", request->cursor()}});
  abonnement.Start();

  grpc::Status result = grpc::Status::OK;
  while (true) {
    if (context->IsCancelled()) {
      result = grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
      break;
    }
    absl::StatusOr<std::optional<Aflevering>> next = abonnement.buffer().Pop(options_.poll_interval);
    if (!next.ok()) {
      result = ToGrpc(next.status());
      break;
    }
    if (!next->has_value()) {
      if (abonnement.caught_up()) lag.Set(0);
      continue;
    }
    Aflevering& aflevering = **next;
    if (!writer->Write(aflevering.bericht)) {
      result = grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
      break;
    }
    absl::Time now = absl::Now();
    sent.Increment();
    lag.Set(std::max(0.0, absl::ToDoubleSeconds(now - aflevering.record_time)));
    if (aflevering.ingest_time.has_value()) {
      metrics_.EndToEnd().Observe(std::max(0.0, absl::ToDoubleSeconds(now - *aflevering.ingest_time)));
    }
  }
  {
    absl::MutexLock lock(&mu_);
    active_.erase(&abonnement);
  }
  abonnement.Stop(absl::CancelledError("subscription ended"));
  subscribers.Decrement();
  util::LogInfo("subscription ended",
                {{"organisatie", label}, {"code", absl::StrCat(static_cast<int>(result.error_code()))}});
  return result;
}

void SignaalServiceImpl::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  for (Abonnement* abonnement : active_) {
    abonnement->Stop(absl::UnavailableError(
        "delivery is shutting down; reconnect with the last cursor received to resume"));
  }
}

int SignaalServiceImpl::active_subscriptions() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(active_.size());
}

}  // namespace inbeeld::delivery

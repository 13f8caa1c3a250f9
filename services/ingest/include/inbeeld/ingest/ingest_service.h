#pragma once
// MeldingService: validates every event, dedupes retries by (bron, id) within a
// bounded window, produces to the event topic of its kind keyed by pseudonym,
// and acknowledges only after Kafka acknowledged (acks=all, idempotent).
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "inbeeld/ingest/dedup_window.h"
#include "inbeeld/delivery/organisatie_identiteit.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/util/clock.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"

namespace inbeeld::ingest {

struct IngestOptions {
  // How long a request may wait for Kafka before the client gets UNAVAILABLE.
  absl::Duration produce_timeout = absl::Seconds(5);
  size_t dedup_capacity = 100000;
  // Largest batch accepted by MeldBatch and MeldBundles (events per stream).
  size_t max_batch_items = 10000;
  // With TLS: the identities (OIN in the client certificate) allowed to
  // publish; others get UNAUTHENTICATED. nullptr: no check (plaintext mode).
  const delivery::OrganisatieIdentiteit* bronnen = nullptr;
  // Holdback: when set, an event whose partition's unprocessed backlog is at
  // the limit is refused with RESOURCE_EXHAUSTED + google.rpc.RetryInfo
  // instead of being produced (where retention would delete it unread).
  kafka::BacklogMonitor* backlog = nullptr;
};

class IngestService final : public v1::MeldingService::Service {
 public:
  IngestService(kafka::Producer& producer, const identity::Pseudonymizer& pseudonymizer,
                const util::Clock& clock, IngestOptions options);

  grpc::Status MeldVerzuim(grpc::ServerContext* ctx, const v1::VerzuimMelding* req,
                           v1::MeldAntwoord* resp) override;
  grpc::Status MeldInschrijving(grpc::ServerContext* ctx, const v1::InschrijvingsMutatie* req,
                                v1::MeldAntwoord* resp) override;
  grpc::Status MeldAdresMutatie(grpc::ServerContext* ctx, const v1::AdresMutatie* req,
                                v1::MeldAntwoord* resp) override;
  grpc::Status MeldVrijstelling(grpc::ServerContext* ctx, const v1::Vrijstelling* req,
                                v1::MeldAntwoord* resp) override;
  grpc::Status MeldBatch(grpc::ServerContext* ctx, grpc::ServerReader<v1::Event>* reader,
                         v1::BatchAntwoord* resp) override;
  grpc::Status MeldBundles(grpc::ServerContext* ctx, grpc::ServerReader<v1::EventBundle>* reader,
                           v1::BatchAntwoord* resp) override;

  // The whole path for one event (also used by tests without gRPC). Field
  // paths in violations are relative to the request message of a unary RPC,
  // or to the Event envelope in a batch (`in_envelope`).
  grpc::Status Accept(const v1::Event& event, absl::Time deadline, v1::MeldAntwoord* resp,
                      bool in_envelope = true);

 private:
  absl::Time DeadlineOf(grpc::ServerContext* ctx) const;
  // MeldBatch and MeldBundles: answers every event `next` yields (nullptr at
  // the end of the stream); an event stays valid until the next call.
  grpc::Status Batch(grpc::ServerContext* ctx, absl::FunctionRef<const v1::Event*()> next,
                     v1::BatchAntwoord* resp);
  // OK when the caller's certificate names an allowed bron (or no check applies).
  grpc::Status Authorize(grpc::ServerContext* ctx) const;

  kafka::Producer& producer_;
  const identity::Pseudonymizer& pseudonymizer_;
  const util::Clock& clock_;
  const IngestOptions options_;
  DedupWindow dedup_;
};

}  // namespace inbeeld::ingest

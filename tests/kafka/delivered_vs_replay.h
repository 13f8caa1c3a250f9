#pragma once
// Reusable check of the kafka tests: the distinct signaal_ids that organisations receive through delivery's
// SignaalService.Subscribe equal `inbeeld replay` on the same events, routed with the same organisation table
// (routing::RouteSignaal), per organisation; and how often a subscriber saw a signaal_id more than once.
//
//   Abonnee            one organisation's subscription from the start of its stream, on its own thread
//   ReplayedSignals    signaling::Replay on Event JSON lines, up to `until`
//   ExpectedPerOrganisatie   replayed signals → organisation → signaal_ids (RouteSignaal)
//   Compare            expected vs what the Abonnees received: missing, extra, repeats per organisation
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/routing/organisatie_tabel.h"
#include "inbeeld/v1/signaal.pb.h"
#include "inbeeld/v1/signaal_service.grpc.pb.h"

namespace inbeeld::kafka_test {

class Abonnee {
 public:
  // Subscribes `organisatie` (no cursor: from the start of the retained stream) over `channel`. Signals for
  // which `keep` is false (e.g. other tests' jongeren on a shared cluster) are not counted.
  Abonnee(std::shared_ptr<grpc::Channel> channel, std::string organisatie,
          std::function<bool(const v1::Signaal&)> keep);
  ~Abonnee();  // Stop()
  Abonnee(const Abonnee&) = delete;
  Abonnee& operator=(const Abonnee&) = delete;

  // Cancels the stream and joins the thread. Idempotent.
  void Stop();
  const std::string& organisatie() const { return organisatie_; }
  size_t Distinct() const;
  // signaal_id → deliveries.
  std::map<std::string, int> Seen() const;
  // Deliveries whose Signaal.organisatie was not this organisation (must be 0).
  int Misrouted() const;
  // The stream's end before Stop() (empty when it ran until Stop()).
  std::string EndedEarly() const;

 private:
  void Run();

  const std::string organisatie_;
  const std::function<bool(const v1::Signaal&)> keep_;
  std::unique_ptr<v1::SignaalService::Stub> stub_;
  grpc::ClientContext context_;
  mutable absl::Mutex mu_;
  std::map<std::string, int> seen_ ABSL_GUARDED_BY(mu_);
  int misrouted_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::string ended_early_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// signaling::Replay on `events_jsonl` (Event JSON lines) up to and including `until`.
absl::StatusOr<std::vector<v1::Signaal>> ReplayedSignals(const std::string& events_jsonl, absl::CivilDay until);

// organisatie → the signaal_ids routing sends it (every copy RouteSignaal makes, also to "onbekend").
absl::StatusOr<std::map<std::string, std::set<std::string>>> ExpectedPerOrganisatie(
    const std::vector<v1::Signaal>& signals, const routing::OrganisatieTabel& tabel);

struct OrganisatieVergelijking {
  size_t expected = 0;
  size_t delivered = 0;  // distinct signaal_ids
  std::vector<std::string> missing;
  std::vector<std::string> extra;
  size_t repeats = 0;                   // deliveries beyond the first of a signaal_id
  size_t ids_seen_more_than_once = 0;   // signaal_ids delivered twice or more
};

struct Vergelijking {
  std::map<std::string, OrganisatieVergelijking> per_organisatie;
  // Replayed signals whose only destination is an organisation nobody subscribed to (e.g. "onbekend").
  size_t not_subscribed = 0;
  bool Equal() const;
  size_t Repeats() const;
  // One line per organisation: expected, delivered, missing, extra, repeats.
  std::string Summary() const;
};

Vergelijking Compare(const std::map<std::string, std::set<std::string>>& expected,
                     const std::vector<const Abonnee*>& abonnees);

}  // namespace inbeeld::kafka_test

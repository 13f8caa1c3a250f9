#include "inbeeld/delivery/abonnement.h"

#include <pthread.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/util/log.h"
#include "inbeeld/v1/signaal.pb.h"

namespace inbeeld::delivery {
namespace {

std::optional<absl::Time> IngestTime(const kafka::Headers& headers) {
  for (const kafka::Header& h : headers) {
    if (h.key != kafka::kHeaderIngestTime) continue;
    absl::Time t;
    std::string error;
    if (absl::ParseTime(absl::RFC3339_full, h.value, &t, &error)) return t;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

Abonnement::Abonnement(std::string organisatie, std::unique_ptr<AfleveringReader> reader,
                       Cursor start, size_t buffer_capacity, absl::Duration poll_timeout,
                       CutOffHandling cut_off)
    : organisatie_(std::move(organisatie)),
      reader_(std::move(reader)),
      position_(std::move(start)),
      buffer_(buffer_capacity),
      poll_timeout_(poll_timeout),
      cut_off_(std::move(cut_off)) {}

Abonnement::~Abonnement() {
  Stop(absl::CancelledError("subscription ended"));
  if (thread_.joinable()) thread_.join();
}

void Abonnement::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "abonnement");
    Run();
  });
}

void Abonnement::Stop(absl::Status status) {
  if (!stop_.exchange(true)) stopped_.Notify();
  buffer_.Close(std::move(status), /*discard_pending=*/true);
}

void Abonnement::HandleCutOff() {
  if (cut_off_.on_cut_off) cut_off_.on_cut_off();
  if (!stopped_.WaitForNotificationWithTimeout(cut_off_.stuck_grace) && cut_off_.on_stuck) {
    cut_off_.on_stuck();
  }
}

void Abonnement::Run() {
  while (!stop_.load()) {
    absl::StatusOr<std::optional<kafka::InRecord>> polled = reader_->Poll(poll_timeout_);
    if (!polled.ok()) {
      util::LogWarn("subscription reader failed",
                    {{"organisatie", organisatie_}, {"error", std::string(polled.status().message())}});
      buffer_.Close(polled.status(), /*discard_pending=*/false);
      return;
    }
    if (!polled->has_value()) {
      caught_up_.store(true);
      continue;
    }
    caught_up_.store(false);
    kafka::InRecord& record = **polled;
    // Every record read moves the position, also the ones for other
    // organisations: a resume must not scan them again.
    position_.next_offsets[record.partition] = record.offset + 1;
    if (record.key != organisatie_) continue;
    Aflevering aflevering;
    if (!aflevering.bericht.mutable_signaal()->ParseFromString(record.value)) {
      // Routing validated it; a broken record is skipped rather than ending
      // every resume at the same place. The position identifies it.
      util::LogError("undecodable aflevering record skipped",
                     {{"partition", absl::StrCat(record.partition)},
                      {"offset", absl::StrCat(record.offset)}});
      continue;
    }
    // Defence in depth: the identifying payload goes only to the organisation
    // the signal was routed to (DOMAIN.md §7).
    const std::string& bestemming = aflevering.bericht.signaal().organisatie();
    if (!bestemming.empty() && bestemming != organisatie_) {
      util::LogError("aflevering record key and organisatie differ; skipped",
                     {{"partition", absl::StrCat(record.partition)},
                      {"offset", absl::StrCat(record.offset)}});
      continue;
    }
    aflevering.bericht.set_cursor(EncodeCursor(position_));
    aflevering.record_time = absl::FromUnixMillis(record.timestamp_ms);
    aflevering.ingest_time = IngestTime(record.headers);
    if (!buffer_.Push(std::move(aflevering), cut_off_.slow_subscriber_timeout)) {
      if (!stop_.load()) HandleCutOff();
      return;
    }
  }
}

}  // namespace inbeeld::delivery

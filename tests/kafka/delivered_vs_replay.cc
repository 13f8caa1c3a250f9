#include "delivered_vs_replay.h"

#include <algorithm>
#include <iterator>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "inbeeld/routing/router.h"
#include "inbeeld/signaling/replay/replay.h"

namespace inbeeld::kafka_test {

Abonnee::Abonnee(std::shared_ptr<grpc::Channel> channel, std::string organisatie,
                 std::function<bool(const v1::Signaal&)> keep)
    : organisatie_(std::move(organisatie)),
      keep_(std::move(keep)),
      stub_(v1::SignaalService::NewStub(std::move(channel))) {
  thread_ = std::thread([this] { Run(); });
}

Abonnee::~Abonnee() { Stop(); }

void Abonnee::Run() {
  // One long subscription from the start, as an RBL's zaaksysteem holds it.
  v1::SubscribeRequest request;
  request.set_organisatie(organisatie_);
  auto reader = stub_->Subscribe(&context_, request);
  v1::SignaalBericht bericht;
  while (reader->Read(&bericht)) {
    const v1::Signaal& s = bericht.signaal();
    if (keep_ && !keep_(s)) continue;
    absl::MutexLock lock(&mu_);
    ++seen_[s.signaal_id()];
    if (s.organisatie() != organisatie_) ++misrouted_;
  }
  grpc::Status st = reader->Finish();
  absl::MutexLock lock(&mu_);
  if (!stopping_) ended_early_ = absl::StrCat("code ", st.error_code(), ": ", st.error_message());
}

void Abonnee::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  context_.TryCancel();
  if (thread_.joinable()) thread_.join();
}

size_t Abonnee::Distinct() const {
  absl::MutexLock lock(&mu_);
  return seen_.size();
}

std::map<std::string, int> Abonnee::Seen() const {
  absl::MutexLock lock(&mu_);
  return seen_;
}

int Abonnee::Misrouted() const {
  absl::MutexLock lock(&mu_);
  return misrouted_;
}

std::string Abonnee::EndedEarly() const {
  absl::MutexLock lock(&mu_);
  return ended_early_;
}

absl::StatusOr<std::vector<v1::Signaal>> ReplayedSignals(const std::string& events_jsonl, absl::CivilDay until) {
  signaling::ReplayOptions options;
  options.until = until;
  std::istringstream in(events_jsonl);
  std::ostringstream out;
  if (absl::Status s = signaling::Replay(in, out, options); !s.ok()) return s;
  std::vector<v1::Signaal> signals;
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) {
    v1::Signaal s;
    if (!google::protobuf::util::JsonStringToMessage(line, &s).ok()) {
      return absl::InternalError("replay printed a line that is not a Signaal");
    }
    signals.push_back(std::move(s));
  }
  return signals;
}

absl::StatusOr<std::map<std::string, std::set<std::string>>> ExpectedPerOrganisatie(
    const std::vector<v1::Signaal>& signals, const routing::OrganisatieTabel& tabel) {
  std::map<std::string, std::set<std::string>> expected;
  for (const v1::Signaal& s : signals) {
    absl::StatusOr<routing::Routering> r = routing::RouteSignaal(tabel, s);
    if (!r.ok()) return r.status();
    for (const routing::Aflevering& a : r->afleveringen) expected[a.organisatie_id].insert(s.signaal_id());
  }
  return expected;
}

bool Vergelijking::Equal() const {
  for (const auto& [org, v] : per_organisatie) {
    if (!v.missing.empty() || !v.extra.empty()) return false;
  }
  return true;
}

size_t Vergelijking::Repeats() const {
  size_t n = 0;
  for (const auto& [org, v] : per_organisatie) n += v.repeats;
  return n;
}

std::string Vergelijking::Summary() const {
  std::string out;
  for (const auto& [org, v] : per_organisatie) {
    absl::StrAppend(&out, org, ": expected ", v.expected, ", delivered ", v.delivered, " distinct, missing ",
                    v.missing.size(), ", extra ", v.extra.size(), ", repeated deliveries ", v.repeats, " (",
                    v.ids_seen_more_than_once, " signaal_ids seen more than once)\n");
  }
  absl::StrAppend(&out, "replayed signals for organisations without a subscriber: ", not_subscribed, "\n");
  return out;
}

Vergelijking Compare(const std::map<std::string, std::set<std::string>>& expected,
                     const std::vector<const Abonnee*>& abonnees) {
  Vergelijking result;
  std::set<std::string> subscribed_ids;
  for (const Abonnee* a : abonnees) {
    OrganisatieVergelijking& v = result.per_organisatie[a->organisatie()];
    const auto it = expected.find(a->organisatie());
    static const std::set<std::string> kNone;
    const std::set<std::string>& want = it == expected.end() ? kNone : it->second;
    std::set<std::string> got;
    for (const auto& [id, n] : a->Seen()) {
      got.insert(id);
      v.repeats += static_cast<size_t>(n - 1);
      if (n > 1) ++v.ids_seen_more_than_once;
    }
    v.expected = want.size();
    v.delivered = got.size();
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(v.missing));
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(v.extra));
    subscribed_ids.insert(want.begin(), want.end());
  }
  std::set<std::string> all;
  for (const auto& [org, ids] : expected) all.insert(ids.begin(), ids.end());
  for (const std::string& id : all) result.not_subscribed += subscribed_ids.contains(id) ? 0 : 1;
  return result;
}

}  // namespace inbeeld::kafka_test

// Crash matrix of inbeeld-routing and inbeeld-delivery (issue #13 item 4),
// black-box: real processes, SIGKILL at random moments while signals flow,
// each followed by a restart (routing on the same state dir; delivery is
// stateless, its subscribers resume from their cursors).
//
// The input is what signaling writes to inbeeld.signalen.v1 (VERZUIMMELDING
// signals for gemeenten of three organisations), produced in chunks while the
// kills happen. Per organisation the reference is the set of signaal_ids
// produced for its gemeenten; each subscriber must receive exactly that set
// (distinct ids: nothing missing, nothing foreign). Repeats are counted and
// reported.
//
// Cells (one test each):
// - routing:  routing killed (a random delay after a chunk, or as soon as it
//             routed something after its restart: inside the next batch);
//             repeats of an id at a subscriber are allowed and counted
//             (outputs flushed, state not yet committed).
// - delivery: delivery killed (random delay, or as soon as it sent something),
//             and the subscribers' own reconnects in between. Routing runs
//             undisturbed, so the topic holds every id once and any repeat at
//             a subscriber would be a resume that did not continue from its
//             cursor: zero repeats required. A forgetful subscriber (resumes
//             from the beginning) runs alongside and must be caught by that
//             check (the broken variant).
// - routing_overlap: routing killed as soon as it sent a batch while an
//             earlier one was still in flight (pipelined: not yet
//             acknowledged or not yet committed); same check as routing.
// - both:     kills of either, at random.
// CI runs one run per cell; the long matrix:
//   INBEELD_CRASH_RUNS=20 INBEELD_CRASH_KILLS=8 build/tests/routing_delivery_crash_test
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "child_process.h"
#include "gtest/gtest.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/signaal.pb.h"
#include "pipeline_support.h"

namespace inbeeld::faults {
namespace {

using testing_util::TempDir;

constexpr int kPartitions = 3;
// A restarted member waits for the killed one's session to expire: short.
constexpr char kKafkaConfig[] = "session.timeout.ms=3000,heartbeat.interval.ms=500";

struct Gemeente {
  std::string code;
  std::string organisatie;  // per deploy/config/organisaties.csv
  bool subscribed;
};
// rmc-21 gets signals nobody reads: they must not show up elsewhere.
const std::vector<Gemeente> kGemeenten = {
    {"0014", "rmc-3", true}, {"0034", "rmc-18", true}, {"0363", "rmc-21", false}};

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int n = 0;
  return v != nullptr && absl::SimpleAtoi(v, &n) && n > 0 ? n : fallback;
}

// A VERZUIMMELDING signal as signaling writes it (key = pseudoniem, ce_id =
// signaal_id, the jongere's partition).
kafka::OutRecord SignalRecord(int run, int i, const Gemeente& gemeente) {
  v1::Signaal s;
  s.set_signaal_id(absl::StrFormat("%08x%024x", run, i));
  s.set_soort(v1::SIGNAAL_SOORT_VERZUIMMELDING);
  s.set_pseudoniem(absl::StrFormat("%064x", 7919 * i + 13));
  s.set_woongemeente(gemeente.code);
  s.set_peildatum("2025-03-10");
  s.set_geboortedatum("2012-03-04");
  s.set_regel("verzuimmelding");
  s.set_artikel("Leerplichtwet 1969 art. 21");
  s.mutable_melding()->set_melding_id(absl::StrCat("crash-", i));
  kafka::OutRecord r;
  r.topic = std::string(kafka::kTopicSignalen);
  r.key = s.pseudoniem();
  r.partition = kafka::PartitionForKey(r.key, kPartitions);
  r.value = s.SerializeAsString();
  r.headers = {{std::string(kafka::kHeaderCeId), s.signaal_id()}};
  return r;
}

enum class Cell { kRouting, kRoutingOverlap, kDelivery, kBoth };

std::string CellName(Cell c) {
  switch (c) {
    case Cell::kRouting: return "routing";
    case Cell::kRoutingOverlap: return "routing_overlap";
    case Cell::kDelivery: return "delivery";
    case Cell::kBoth: return "both";
  }
  return "";
}

void PrintTo(Cell c, std::ostream* os) { *os << CellName(c); }

// What one subscriber got, against its reference.
struct Outcome {
  std::set<std::string> missing;  // in the reference, never received
  std::set<std::string> foreign;  // received, not in the reference
  int repeats = 0;                // copies beyond the first
};

Outcome Compare(const std::map<std::string, int>& received, const std::set<std::string>& reference) {
  Outcome o;
  for (const std::string& id : reference) {
    if (!received.count(id)) o.missing.insert(id);
  }
  for (const auto& [id, copies] : received) {
    if (!reference.count(id)) o.foreign.insert(id);
    o.repeats += copies - 1;
  }
  return o;
}

// The check of a cell; `repeats_allowed` only where routing is killed.
std::vector<std::string> Problems(const Outcome& o, bool repeats_allowed) {
  std::vector<std::string> p;
  if (!o.missing.empty()) p.push_back(absl::StrCat(o.missing.size(), " signals missing"));
  if (!o.foreign.empty()) p.push_back(absl::StrCat(o.foreign.size(), " foreign signals"));
  if (!repeats_allowed && o.repeats > 0) p.push_back(absl::StrCat(o.repeats, " repeats"));
  return p;
}

struct RunFigures {
  int kills_routing = 0;
  int kills_delivery = 0;
  int reconnects = 0;
  int signals = 0;
  int received = 0;  // distinct, over the subscribers
  int repeats = 0;
  int forgetful_repeats = 0;
};

class RoutingDeliveryCrashTest : public ::testing::TestWithParam<Cell> {
 protected:
  void Run(Cell cell, int run, int kills, RunFigures* figures);
};

void RoutingDeliveryCrashTest::Run(Cell cell, int run, int kills, RunFigures* figures) {
  TempDir dir;
  auto cluster = kafka::EmbeddedCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopics(kafka::InBeeldTopics(kPartitions, 1)).ok());
  const std::string kafka = "--kafka=" + (*cluster)->bootstrap_servers();
  const std::string config_dir = testing_util::SourceDir() + "/deploy/config";
  kafka::ClientOptions ko;
  ko.bootstrap_servers = (*cluster)->bootstrap_servers();
  auto producer = kafka::Producer::Create(ko);
  ASSERT_TRUE(producer.ok()) << producer.status();

  // Small batches, so that a kill lands inside one.
  ServiceProcess routing("inbeeld-routing",
                         {kafka, "--state-dir=" + dir.File("routing"), "--organisaties=" + config_dir + "/organisaties.csv",
                          "--herindelingen=" + config_dir + "/herindelingen.csv", "--metrics-listen=127.0.0.1:0",
                          "--log-level=warn", "--batch-size=20", "--batch-timeout=20ms", "--batches-in-flight=4",
                          std::string("--kafka-config=") + kKafkaConfig},
                         dir.path());
  ServiceProcess delivery("inbeeld-delivery",
                          {kafka, "--plaintext", "--grpc-listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0",
                           "--organisaties=" + config_dir + "/organisaties.csv", "--log-level=warn"},
                          dir.path());
  ASSERT_TRUE(routing.Start().ok());
  ASSERT_TRUE(delivery.Start().ok());
  absl::Mutex address_mu;
  std::string delivery_address = delivery.Ready("grpc");  // "" while delivery is down
  auto address = [&] {
    absl::MutexLock lock(&address_mu);
    return delivery_address;
  };
  std::map<std::string, std::unique_ptr<Subscriber>> subscribers;
  for (const Gemeente& g : kGemeenten) {
    if (g.subscribed) subscribers[g.organisatie] = std::make_unique<Subscriber>(g.organisatie, address);
  }
  // The broken variant: forgets its cursor on every reconnect.
  const bool with_forgetful = cell == Cell::kDelivery;
  Subscriber forgetful("rmc-3", address, /*resume_from_cursor=*/false);
  for (auto& [org, s] : subscribers) s->Start();
  if (with_forgetful) forgetful.Start();

  std::mt19937 rng(static_cast<uint32_t>(1000 * static_cast<int>(cell) + run));
  std::map<std::string, std::set<std::string>> reference;
  int next = 0;
  auto produce_chunk = [&](int n) {
    for (int i = 0; i < n; ++i, ++next) {
      const Gemeente& g = kGemeenten[rng() % kGemeenten.size()];
      kafka::OutRecord r = SignalRecord(run, next, g);
      reference[g.organisatie].insert(absl::StrFormat("%08x%024x", run, next));
      ASSERT_TRUE((*producer)->Produce(std::move(r), [](const kafka::DeliveryReport&) {}).ok());
    }
    ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());
  };
  auto metric = [](ServiceProcess& p, const char* name) { return MetricSum(p.Metrics(), name); };
  // Waits (bounded) until the counter moves past `before`: the process is busy.
  auto until_moved = [&](ServiceProcess& p, const char* name, double before) {
    const absl::Time bound = absl::Now() + absl::Seconds(20);
    while (absl::Now() < bound && metric(p, name) <= before) absl::SleepFor(absl::Milliseconds(5));
  };

  for (int k = 0; k < kills; ++k) {
    const bool overlap = cell == Cell::kRoutingOverlap;
    const bool kill_routing = cell == Cell::kRouting || overlap || (cell == Cell::kBoth && rng() % 2 == 0);
    ServiceProcess& victim = kill_routing ? routing : delivery;
    const char* busy = overlap        ? "inbeeld_routing_batches_overlapped_total"
                       : kill_routing ? "inbeeld_routing_signals_routed_total"
                                      : "inbeeld_delivery_signals_sent_total";
    const double before = metric(victim, busy);
    produce_chunk(150 + static_cast<int>(rng() % 150));
    if (HasFatalFailure()) return;
    std::string when;
    if (overlap) {
      until_moved(victim, busy, before);
      // The kill must land while batches overlap, or the cell tests nothing.
      ASSERT_GT(metric(victim, busy), before) << "routing never had two batches in flight";
      when = "while batches overlap";
    } else if (rng() % 2 == 0) {
      until_moved(victim, busy, before);
      when = "as soon as it was busy";
    } else {
      const int delay_ms = static_cast<int>(rng() % 400);
      absl::SleepFor(absl::Milliseconds(delay_ms));
      when = absl::StrCat("+", delay_ms, " ms");
    }
    ASSERT_TRUE(victim.Running()) << "died on its own: " << victim.LogTail();
    if (!kill_routing) {
      absl::MutexLock lock(&address_mu);
      delivery_address.clear();
    }
    victim.Kill();
    (kill_routing ? figures->kills_routing : figures->kills_delivery)++;
    std::cout << "[" << CellName(cell) << " run " << run << "] SIGKILL " << (kill_routing ? "routing" : "delivery")
              << " (" << when << ")" << std::endl;
    produce_chunk(static_cast<int>(rng() % 100));  // load while it is down
    if (HasFatalFailure()) return;
    absl::Status started = victim.Start();
    ASSERT_TRUE(started.ok()) << started;
    if (!kill_routing) {
      absl::MutexLock lock(&address_mu);
      delivery_address = delivery.Ready("grpc");
    }
    if (cell == Cell::kDelivery || cell == Cell::kBoth) {
      // The subscribers' own reconnect, in the middle of their stream.
      absl::SleepFor(absl::Milliseconds(rng() % 300));
      for (auto& [org, s] : subscribers) s->Reconnect();
      if (with_forgetful) forgetful.Reconnect();
      ++figures->reconnects;
    }
  }
  produce_chunk(200);
  if (HasFatalFailure()) return;

  for (auto& [org, s] : subscribers) {
    EXPECT_TRUE(s->WaitForAll(reference[org], absl::Seconds(90)))
        << org << ": not every signal arrived\n" << routing.LogTail() << delivery.LogTail();
  }
  absl::SleepFor(absl::Seconds(1));  // late repeats and foreign signals show up too
  for (auto& [org, s] : subscribers) {
    const Outcome o = Compare(s->Received(), reference[org]);
    const auto problems = Problems(o, cell != Cell::kDelivery);
    EXPECT_TRUE(problems.empty()) << org << ": " << absl::StrJoin(problems, "; ");
    figures->received += static_cast<int>(s->Received().size());
    figures->repeats += o.repeats;
  }
  for (const auto& [org, ids] : reference) figures->signals += static_cast<int>(ids.size());
  if (with_forgetful) {
    EXPECT_TRUE(forgetful.WaitForAll(reference["rmc-3"], absl::Seconds(60)));
    const Outcome o = Compare(forgetful.Received(), reference["rmc-3"]);
    figures->forgetful_repeats += o.repeats;
    EXPECT_FALSE(Problems(o, /*repeats_allowed=*/false).empty())
        << "a subscriber that resumes from the beginning went unnoticed";
  }
  for (auto& [org, s] : subscribers) s->Stop();
  forgetful.Stop();
  EXPECT_TRUE(delivery.Stop().ok());
  EXPECT_TRUE(routing.Stop().ok());
}

TEST(CrashCheckTest, TheCheckCatchesALostARepeatedAndAForeignSignal) {
  const std::set<std::string> reference = {"a", "b", "c"};
  EXPECT_TRUE(Problems(Compare({{"a", 1}, {"b", 1}, {"c", 1}}, reference), false).empty());
  EXPECT_FALSE(Problems(Compare({{"a", 1}, {"b", 1}}, reference), true).empty());           // lost
  EXPECT_FALSE(Problems(Compare({{"a", 1}, {"b", 2}, {"c", 1}}, reference), false).empty());  // repeated
  EXPECT_TRUE(Problems(Compare({{"a", 1}, {"b", 2}, {"c", 1}}, reference), true).empty());    // allowed there
  EXPECT_FALSE(Problems(Compare({{"a", 1}, {"b", 1}, {"c", 1}, {"x", 1}}, reference), true).empty());  // foreign
}

TEST_P(RoutingDeliveryCrashTest, SubscribersReceiveExactlyTheReferenceSignals) {
  const int runs = EnvInt("INBEELD_CRASH_RUNS", 1);
  // The overlap cell: two kills keep it short (each restart waits for the
  // killed member's session to expire).
  const int kills = EnvInt("INBEELD_CRASH_KILLS", GetParam() == Cell::kRoutingOverlap ? 2 : 4);
  RunFigures total;
  const absl::Time began = absl::Now();
  for (int run = 0; run < runs && !HasFailure(); ++run) Run(GetParam(), run, kills, &total);
  std::cout << "CRASH MATRIX " << CellName(GetParam()) << ": runs=" << runs << " kills routing="
            << total.kills_routing << " delivery=" << total.kills_delivery << " subscriber reconnects="
            << total.reconnects << " signals=" << total.signals << " distinct received (subscribed orgs)="
            << total.received << " repeats=" << total.repeats
            << " forgetful-subscriber repeats=" << total.forgetful_repeats << " in "
            << absl::FormatDuration(absl::Now() - began) << std::endl;
  RecordProperty("repeats", total.repeats);
}

INSTANTIATE_TEST_SUITE_P(Cells, RoutingDeliveryCrashTest,
                         ::testing::Values(Cell::kRouting, Cell::kRoutingOverlap, Cell::kDelivery, Cell::kBoth),
                         [](const auto& info) { return CellName(info.param); });

}  // namespace
}  // namespace inbeeld::faults

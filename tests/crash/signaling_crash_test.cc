// Crash test of inbeeld-signaling: the same scenario is played once without
// crashes (reference, each batch applied on one thread) and once with SIGKILLs
// at random moments (two apply threads), each followed
// by a restart on the same state dir. The exactly-once-effect contract says
// the set of DISTINCT signaal_ids on inbeeld.signalen.v1 must be the same;
// repeats of an id (outputs flushed, state not yet committed) are allowed and
// counted.
//
// Each run has its own embedded cluster, so topics, offsets and partitions are
// identical. Determinism of the input per jongere: the same records in the
// same order to the same partitions, and the date moves only after the
// service committed the whole chunk (seen through marker jongeren whose
// Status answers from the committed store), see crash_scenario.h.
#include <signal.h>

#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "child_process.h"
#include "crash_scenario.h"
#include "inbeeld/cli/demo_scenario.h"
#include "gtest/gtest.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/v1/signaal.pb.h"
#include "services/signaling/core/tests/test_events.h"
#include "signaling_under_test.h"

namespace inbeeld::crash {
namespace {

constexpr int kPartitions = 3;
constexpr int kJongeren = 150;
constexpr int kWeeks = 16;
constexpr char kSecret[] = "crash-test-secret-0123456789";
constexpr uint32_t kSeed = 20240108;
const absl::CivilDay kStart(2024, 1, 8);  // a Monday
// A restarted member waits for the killed one's session to expire (the mock
// rebalances after session.timeout.ms - 1 s): keep that short.
constexpr char kKafkaConfig[] = "session.timeout.ms=3000,heartbeat.interval.ms=500";

// The chunk's records, and the marker leerlingen whose committed state proves
// the chunk was consumed: one per (event topic, partition), each the last
// record of its topic-partition in the chunk.
struct ChunkRecords {
  absl::CivilDay first_day;
  std::vector<kafka::OutRecord> records;
  std::vector<v1::Leerling> markers;
};

// An adult (no obligation: no timers) whose only event is on `topic`.
v1::Event MarkerEvent(std::string_view topic, const std::string& bsn, const std::string& id, absl::CivilDay day) {
  signaling::testing::Persoon p;
  p.bsn = bsn;
  p.geboortedatum = "1990-06-01";
  const std::string d = util::FormatDate(day);
  if (topic == kafka::kTopicVerzuimmeldingen) {
    return signaling::testing::Melding(p, id, v1::VERZUIM_SOORT_OVERIG, d, d);
  }
  if (topic == kafka::kTopicInschrijvingsmutaties) {
    return signaling::testing::Inschrijving(p, id, d, v1::ONDERWIJSSOORT_HO, "21PM");
  }
  if (topic == kafka::kTopicAdresmutaties) {
    return signaling::testing::Adres(p, id, v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND, d, "0599");
  }
  return signaling::testing::Vrijstelling(p, id, v1::VRIJSTELLING_ARTIKEL_15, d);
}

// Encodes the whole scenario once; both runs produce exactly these records.
std::vector<ChunkRecords> EncodeScenario(const Scenario& scenario, const identity::Pseudonymizer& pseudo) {
  const absl::Time ingest = absl::FromUnixSeconds(1704700800);  // fixed: identical headers in both runs
  std::vector<ChunkRecords> out;
  int marker_seed = 500000;
  for (size_t k = 0; k < scenario.chunks.size(); ++k) {
    ChunkRecords c;
    c.first_day = scenario.chunks[k].first_day;
    for (const v1::Event& e : scenario.chunks[k].events) {
      EXPECT_TRUE(identity::Validate(e).empty()) << identity::Describe(identity::Validate(e));
      kafka::OutRecord r = events::Encode(e, pseudo, ingest);
      r.partition = kafka::PartitionForKey(r.key, kPartitions);
      c.records.push_back(std::move(r));
    }
    for (std::string_view topic : kafka::kEventTopics) {
      for (int p = 0; p < kPartitions; ++p) {
        // The next synthetic BSN whose pseudonym lands on partition p.
        while (true) {
          const std::string bsn = cli::SyntheticBsn(marker_seed++);
          v1::Leerling l;
          l.set_bsn(bsn);
          if (kafka::PartitionForKey(pseudo.Of(l), kPartitions) != p) continue;
          v1::Event e = MarkerEvent(topic, bsn, absl::StrCat("mk", k, "-", p), c.first_day);
          EXPECT_TRUE(identity::Validate(e).empty()) << identity::Describe(identity::Validate(e));
          kafka::OutRecord r = events::Encode(e, pseudo, ingest);
          EXPECT_EQ(r.topic, topic);
          r.partition = p;
          c.records.push_back(std::move(r));
          c.markers.push_back(l);
          break;
        }
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

enum class KillPoint {
  kMidChunk,       // part of the chunk produced, after a random delay
  kAfterChunk,     // whole chunk produced, after a random delay
  kWhileApplying,  // as soon as events_applied_total moves: inside a batch
  kAfterDateStep,  // date moved, after a random delay
  kDuringTick,     // date moved, as soon as timer_firings_total moves: inside a tick
  kLostDisk,       // like kWhileApplying, and the restart gets an empty state dir:
                   // the partitions are restored from the changelog
  kWhileOverlapping,  // as soon as batches_overlapped_total moves: batch n+1 applied
                      // (its signals produced) while batch n is not yet committed
  kWhileHolding,  // as soon as input_held_total moves: records polled but held
                  // back for arrival order, not processed, not committed
  kWhileApplyingInParallel,  // as soon as batches_applied_in_parallel_total moves: a
                             // batch's jongeren applied on two threads, their shards
                             // joined, nothing of it committed yet
};

std::string Name(KillPoint p) {
  switch (p) {
    case KillPoint::kMidChunk: return "mid-chunk";
    case KillPoint::kAfterChunk: return "after-chunk";
    case KillPoint::kWhileApplying: return "while-applying";
    case KillPoint::kAfterDateStep: return "after-date-step";
    case KillPoint::kDuringTick: return "during-tick";
    case KillPoint::kLostDisk: return "while-applying, state dir lost";
    case KillPoint::kWhileOverlapping: return "while batches overlap";
    case KillPoint::kWhileHolding: return "while records are held for arrival order";
    case KillPoint::kWhileApplyingInParallel: return "while a batch is applied on two threads";
  }
  return "";
}

struct Kill {
  size_t chunk;
  KillPoint point;
  int delay_ms;  // after the point, before SIGKILL: lands in a batch or a tick
};

// 13 kills on distinct chunks: every kind of moment, the ones inside a batch
// (or two overlapping batches) or a tick twice.
std::vector<Kill> PlanKills(uint32_t seed, size_t chunks) {
  std::mt19937 rng(seed);
  std::vector<size_t> candidates;
  for (size_t k = 1; k + 1 < chunks; ++k) candidates.push_back(k);
  std::shuffle(candidates.begin(), candidates.end(), rng);
  std::vector<KillPoint> points = {KillPoint::kMidChunk,      KillPoint::kWhileApplying, KillPoint::kDuringTick,
                                   KillPoint::kAfterChunk,    KillPoint::kAfterDateStep, KillPoint::kWhileApplying,
                                   KillPoint::kDuringTick,    KillPoint::kMidChunk,      KillPoint::kLostDisk,
                                   KillPoint::kWhileOverlapping, KillPoint::kWhileOverlapping,
                                   KillPoint::kWhileHolding,  KillPoint::kWhileApplyingInParallel};
  std::shuffle(points.begin(), points.end(), rng);
  std::vector<Kill> kills;
  for (size_t i = 0; i < points.size() && i < candidates.size(); ++i) {
    kills.push_back({candidates[i], points[i], static_cast<int>(rng() % 250)});
  }
  std::sort(kills.begin(), kills.end(), [](const Kill& a, const Kill& b) { return a.chunk < b.chunk; });
  return kills;
}

struct SignalRecord {
  v1::Signaal signaal;
  int copies = 0;
};

struct RunResult {
  std::map<std::string, SignalRecord> signals;  // by signaal_id
  size_t records = 0;
  int kills = 0;
  absl::Duration elapsed;
};

absl::StatusOr<std::map<std::string, SignalRecord>> ReadSignals(const kafka::ClientOptions& kopts,
                                                                 size_t* records) {
  std::map<std::string, SignalRecord> out;
  size_t n = 0;
  absl::Status bad = absl::OkStatus();
  for (int p = 0; p < kPartitions; ++p) {
    absl::Status s = kafka::ReadPartitionToEnd(
        kopts, {std::string(kafka::kTopicSignalen), p}, 0,
        [&](const kafka::InRecord& r) {
          ++n;
          v1::Signaal sig;
          if (!sig.ParseFromString(r.value)) {
            bad = absl::DataLossError(absl::StrCat("undecodable signal at offset ", r.offset));
            return;
          }
          if (kafka::FindHeader(r.headers, kafka::kHeaderCeId) != sig.signaal_id()) {
            bad = absl::DataLossError(absl::StrCat("ce_id differs from signaal_id at offset ", r.offset));
          }
          SignalRecord& rec = out[sig.signaal_id()];
          rec.signaal = std::move(sig);
          ++rec.copies;
        },
        absl::Seconds(30));
    if (!s.ok()) return s;
  }
  if (!bad.ok()) return bad;
  if (records) *records = n;
  return out;
}

std::string Describe(const v1::Signaal& s) {
  return absl::StrCat(s.signaal_id(), " ", v1::SignaalSoort_Name(s.soort()), " peildatum=", s.peildatum(),
                      " regel=", s.regel(), " pseudoniem=", s.pseudoniem().substr(0, 12));
}

class SignalingCrashTest : public ::testing::Test {
 protected:
  // Plays the scenario against a fresh cluster and service; kills at `kills`.
  void Play(const std::string& name, const std::vector<ChunkRecords>& chunks, absl::CivilDay final_day,
            const std::vector<Kill>& kills, uint32_t seed, RunResult* result) {
    const absl::Time began = absl::Now();
    auto cluster = kafka::EmbeddedCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    ASSERT_TRUE((*cluster)->CreateTopics(kafka::InBeeldTopics(kPartitions, 1)).ok());
    kafka::ClientOptions kopts;
    kopts.bootstrap_servers = (*cluster)->bootstrap_servers();
    kopts.client_id = "crash-test-" + name;
    auto producer = kafka::Producer::Create(kopts);
    ASSERT_TRUE(producer.ok()) << producer.status();

    // Small batches, so a chunk spans several and they overlap (pipelined:
    // batch n+1 is applied and produced while batch n is in flight). The
    // reference applies each batch on one thread, the crash run on two (the
    // default): the same signals either way.
    const std::string threads = kills.empty() ? "--apply-threads=1" : "--apply-threads=2";
    SignalingUnderTest service(
        {name, kopts.bootstrap_servers, dir_.path(), kSecret, kKafkaConfig, {"--max-batch-records=16", threads}});
    ASSERT_TRUE(service.SetToday(chunks.front().first_day).ok());
    ASSERT_TRUE(service.Start().ok());
    std::mt19937 rng(seed);
    auto metric = [&](const std::string& name) {
      auto v = service.Metric(name);
      return v.ok() ? *v : 0.0;  // a labelled family appears with its first sample
    };
    // SIGKILL after the kill's delay or, with `counter`, as soon as that
    // counter passes `before` (the process is then inside a batch or tick).
    auto kill_and_restart = [&](const Kill& kill, const std::string& counter, double before) {
      std::string when = absl::StrCat("+", kill.delay_ms, " ms");
      if (counter.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(kill.delay_ms));
      } else {
        // Bounded: a just-restarted process may still be joining the group.
        const absl::Time bound = absl::Now() + absl::Seconds(15);
        bool moved = false;
        while (!moved && absl::Now() < bound) moved = metric(counter) > before;
        when = moved ? counter + " moved" : counter + " did not move in 15 s: killed idle";
      }
      ASSERT_TRUE(service.Running()) << "died on its own before kill: " << service.LogTail();
      ASSERT_TRUE(service.Kill().ok());
      if (kill.point == KillPoint::kLostDisk) {
        ASSERT_TRUE(service.WipeState().ok());
      }
      ++result->kills;
      std::cout << "[" << name << "] SIGKILL " << result->kills << " at chunk " << kill.chunk << " ("
                << Name(kill.point) << ", " << when << ")" << std::endl;
      auto s = service.Start();
      ASSERT_TRUE(s.ok()) << s << service.LogTail();
    };
    auto produce = [&](const std::vector<kafka::OutRecord>& records, size_t from, size_t to) {
      for (size_t i = from; i < to; ++i) {
        ASSERT_TRUE((*producer)->Produce(records[i], [](const kafka::DeliveryReport&) {}).ok());
      }
      ASSERT_TRUE((*producer)->Flush(absl::Seconds(30)).ok());
    };

    for (size_t k = 0; k < chunks.size(); ++k) {
      const ChunkRecords& c = chunks[k];
      std::optional<Kill> kill;
      for (const Kill& x : kills) {
        if (x.chunk == k) kill = x;
      }
      auto at = [&](KillPoint p) { return kill && kill->point == p; };
      const char kApplied[] = "inbeeld_signaling_events_applied_total";
      const char kFirings[] = "inbeeld_signaling_timer_firings_total";
      const char kOverlapped[] = "inbeeld_signaling_batches_overlapped_total";
      const char kHeld[] = "inbeeld_signaling_input_held_total";
      const char kParallel[] = "inbeeld_signaling_batches_applied_in_parallel_total";
      const double applied_before =
          at(KillPoint::kWhileApplying) || at(KillPoint::kLostDisk) ? metric(kApplied) : 0;
      const double overlapped_before = at(KillPoint::kWhileOverlapping) ? metric(kOverlapped) : 0;
      const double held_before = at(KillPoint::kWhileHolding) ? metric(kHeld) : 0;
      const double parallel_before = at(KillPoint::kWhileApplyingInParallel) ? metric(kParallel) : 0;
      if (at(KillPoint::kMidChunk)) {
        const size_t part = static_cast<size_t>(rng() % c.records.size());
        produce(c.records, 0, part);
        kill_and_restart(*kill, "", 0);
        produce(c.records, part, c.records.size());
      } else {
        produce(c.records, 0, c.records.size());
        if (at(KillPoint::kAfterChunk)) kill_and_restart(*kill, "", 0);
        if (at(KillPoint::kWhileApplying) || at(KillPoint::kLostDisk)) {
          kill_and_restart(*kill, kApplied, applied_before);
        }
        if (at(KillPoint::kWhileOverlapping)) kill_and_restart(*kill, kOverlapped, overlapped_before);
        if (at(KillPoint::kWhileHolding)) kill_and_restart(*kill, kHeld, held_before);
        if (at(KillPoint::kWhileApplyingInParallel)) kill_and_restart(*kill, kParallel, parallel_before);
      }
      if (HasFatalFailure()) return;
      absl::Status committed = service.WaitCommitted(c.markers, absl::Seconds(90));
      ASSERT_TRUE(committed.ok()) << "chunk " << k << ": " << committed << "\n" << service.LogTail();
      const absl::CivilDay next = k + 1 < chunks.size() ? chunks[k + 1].first_day : final_day;
      const double firings_before = at(KillPoint::kDuringTick) ? metric(kFirings) : 0;
      ASSERT_TRUE(service.SetToday(next).ok());
      if (at(KillPoint::kAfterDateStep)) kill_and_restart(*kill, "", 0);
      if (at(KillPoint::kDuringTick)) kill_and_restart(*kill, kFirings, firings_before);
      if (HasFatalFailure()) return;
    }
    // Idle: a whole tick on the final date, then the signal set must hold
    // still for 3 s (bounded).
    absl::Status ticked = service.WaitForTickAfter(absl::Now(), absl::Seconds(90));
    ASSERT_TRUE(ticked.ok()) << ticked << "\n" << service.LogTail();
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    size_t last_count = 0;
    absl::Time stable_since = absl::Now();
    while (true) {
      auto signals = ReadSignals(kopts, &result->records);
      ASSERT_TRUE(signals.ok()) << signals.status();
      if (signals->size() != last_count || result->signals.empty()) {
        last_count = signals->size();
        stable_since = absl::Now();
      }
      result->signals = std::move(*signals);
      if (absl::Now() - stable_since >= absl::Seconds(3)) break;
      ASSERT_LT(absl::Now(), deadline) << "signal set did not settle";
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ASSERT_TRUE(service.Stop().ok()) << service.LogTail();
    result->elapsed = absl::Now() - began;
  }

  testing_util::TempDir dir_;
};

TEST_F(SignalingCrashTest, KilledAndRestartedServiceEmitsExactlyTheReferenceSignals) {
  auto pseudo = identity::Pseudonymizer::Create(kSecret);
  ASSERT_TRUE(pseudo.ok());
  const Scenario scenario = GenerateScenario(kJongeren, kWeeks, kStart);
  const std::vector<ChunkRecords> chunks = EncodeScenario(scenario, *pseudo);
  ASSERT_FALSE(HasFailure()) << "the scenario itself is invalid";
  size_t total = 0;
  for (const auto& c : chunks) total += c.records.size();

  // The runs are independent (own cluster, state dir, group): run them side
  // by side; the crash run mostly waits for group rejoins.
  RunResult reference;
  std::thread reference_run([&] { Play("reference", chunks, scenario.final_day, {}, kSeed, &reference); });
  const std::vector<Kill> kills = PlanKills(kSeed, chunks.size());
  RunResult crashed;
  Play("crash", chunks, scenario.final_day, kills, kSeed, &crashed);
  reference_run.join();
  ASSERT_FALSE(HasFatalFailure());

  std::map<std::string, int> per_soort;
  for (const auto& [id, rec] : reference.signals) ++per_soort[v1::SignaalSoort_Name(rec.signaal.soort())];
  std::vector<std::string> missing, extra;
  for (const auto& [id, rec] : reference.signals) {
    if (!crashed.signals.count(id)) missing.push_back(Describe(rec.signaal));
  }
  for (const auto& [id, rec] : crashed.signals) {
    if (!reference.signals.count(id)) extra.push_back(Describe(rec.signaal));
  }
  int duplicated_ids = 0;
  for (const auto& [id, rec] : crashed.signals) duplicated_ids += rec.copies > 1 ? 1 : 0;

  std::cout << "CRASH TEST: " << kJongeren << " jongeren, " << total << " records in " << chunks.size()
            << " chunks\n  reference: " << reference.signals.size() << " distinct signals (" << reference.records
            << " records) in " << absl::FormatDuration(reference.elapsed) << "; by soort: "
            << absl::StrJoin(per_soort, ", ", absl::PairFormatter("="))
            << "\n  crash run: " << crashed.kills << " SIGKILLs, " << crashed.signals.size() << " distinct signals, "
            << crashed.records << " records (" << crashed.records - crashed.signals.size() << " duplicates over "
            << duplicated_ids << " ids) in " << absl::FormatDuration(crashed.elapsed) << "\n";
  RecordProperty("kills", crashed.kills);
  RecordProperty("duplicates", static_cast<int>(crashed.records - crashed.signals.size()));

  // The scenario must exercise the rules, or equality proves little.
  EXPECT_GE(per_soort.size(), 6u);
  EXPECT_GE(crashed.kills, 5);
  EXPECT_TRUE(missing.empty()) << "missing after crashes:\n  " << absl::StrJoin(missing, "\n  ");
  EXPECT_TRUE(extra.empty()) << "extra after crashes:\n  " << absl::StrJoin(extra, "\n  ");
  // The reference has no crash, so no signal may repeat there.
  EXPECT_EQ(reference.records, reference.signals.size());
}

}  // namespace
}  // namespace inbeeld::crash

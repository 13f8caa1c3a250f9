// The signaling loop against the embedded Kafka cluster, in-process.
#include "inbeeld/signaling/signaling_service.h"

#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "child_process.h"
#include "gtest/gtest.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/kafka/backlog.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/observability/metrics.h"
#include "inbeeld/util/dates.h"
#include "services/signaling/core/tests/test_events.h"

namespace inbeeld::signaling {
namespace {

v1::Event Uitschrijving(const std::string& bsn, const std::string& id, const std::string& datum) {
  v1::Event e;
  auto* m = e.mutable_inschrijvingsmutatie();
  m->set_mutatie_id(id);
  m->set_bron("05KO");
  m->mutable_leerling()->set_bsn(bsn);
  m->set_geboortedatum("2012-05-01");
  m->set_brin("05KO");
  m->set_woongemeente("0363");
  m->set_soort(v1::MUTATIE_SOORT_UITSCHRIJVING);
  m->set_ingangsdatum(datum);
  m->set_onderwijssoort(v1::ONDERWIJSSOORT_VO);
  m->set_uitschrijfreden(v1::UITSCHRIJFREDEN_VERWIJDERING);
  return e;
}

class SignalingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = kafka::EmbeddedCluster::Start(1);
    ASSERT_TRUE(c.ok());
    cluster_ = std::move(*c);
    ASSERT_TRUE(cluster_->CreateTopics(kafka::InBeeldTopics(2, 1)).ok());
    kopts_.bootstrap_servers = cluster_->bootstrap_servers();
    auto p = kafka::Producer::Create(kopts_);
    ASSERT_TRUE(p.ok());
    producer_ = std::move(*p);
    SetToday("2024-03-01");
  }

  void SetToday(const std::string& day) {
    std::ofstream(date_file_) << day << "\n";
  }

  void Produce(const kafka::OutRecord& r) { ASSERT_TRUE(producer_->ProduceSync(r, absl::Seconds(10)).ok()); }

  // Runs a service instance over `store_dir` for `iterations` loops after it
  // got its partitions.
  void RunService(const std::string& store_dir, int iterations, const std::string& group = "sig-test") {
    SignalingOptions opts;
    opts.tick = absl::Milliseconds(50);
    RunService(store_dir, iterations, group, opts, kopts_);
  }

  // `settle`: after the iterations, go on (bounded) until the service holds no record back for arrival order.
  void RunService(const std::string& store_dir, int iterations, const std::string& group,
                  const SignalingOptions& opts, const kafka::ClientOptions& service_kopts, bool settle = false) {
    auto store = SignalingStore::Open(store_dir, false);
    ASSERT_TRUE(store.ok());
    FileDateSource dates(date_file_);
    SignalingService service(**store, *producer_, pseudo_, dates, service_kopts, opts);
    auto consumer = kafka::Consumer::Create(service.ConsumerOptionsFor(group));
    ASSERT_TRUE(consumer.ok());
    // The mock's group join takes a few seconds: wait for the assignment, then
    // give the loop its iterations.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while ((*consumer)->Assignment().empty() && absl::Now() < deadline) {
      ASSERT_TRUE(service.RunOnce(**consumer).ok());
    }
    ASSERT_FALSE((*consumer)->Assignment().empty());
    for (int i = 0; i < iterations; ++i) ASSERT_TRUE(service.RunOnce(**consumer).ok());
    const absl::Time settled_by = absl::Now() + absl::Seconds(60);
    while (settle && RegistryValue("inbeeld_signaling_input_held_records") > 0 && absl::Now() < settled_by) {
      ASSERT_TRUE(service.RunOnce(**consumer).ok());
    }
    ASSERT_TRUE(service.Drain().ok());  // batches still in flight: acknowledged and committed
    (*consumer)->Close();
  }

  // A counter's or gauge's value in the process's registry (0 if absent).
  static double RegistryValue(const std::string& name) {
    for (const auto& family : observability::Registry().Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        return family.type == prometheus::MetricType::Gauge ? metric.gauge.value : metric.counter.value;
      }
    }
    return 0;
  }

  std::vector<kafka::InRecord> ReadAll(const std::string& topic) {
    std::vector<kafka::InRecord> out;
    for (int p = 0; p < 2; ++p) {
      EXPECT_TRUE(kafka::ReadPartitionToEnd(kopts_, {topic, p}, 0,
                                            [&](const kafka::InRecord& r) { out.push_back(r); }, absl::Seconds(10))
                      .ok());
    }
    return out;
  }

  std::unique_ptr<kafka::EmbeddedCluster> cluster_;
  kafka::ClientOptions kopts_;
  std::unique_ptr<kafka::Producer> producer_;
  identity::Pseudonymizer pseudo_ = *identity::Pseudonymizer::Create("signaling-test-secret-0123");
  testing_util::TempDir dir_;
  std::string date_file_ = dir_.File("today");
};

// Under a backlog the consumer reads the event topics at different paces (a
// fetch brings about the same bytes per partition). An uitschrijving read
// while the vrijstelling ingest accepted right after it is still unread on
// the other topic must not be judged alone: that gave the jongere an
// absoluut-verzuim signal InBeeld already held the answer to, and then its
// resolution.
class SignalingArrivalOrderTest : public SignalingServiceTest {
 public:
  // The jongere's signals. `hold`: ArrivalOrder's max_hold; zero turns it off
  // (the control run, which shows that the scenario reads the topics out of step).
  std::vector<v1::Signaal> Run(absl::Duration hold) {
    const signaling::testing::Persoon x;  // leerplichtig: born 2010-03-15
    const std::string key = pseudo_.Of(signaling::testing::LeerlingBsn(x.bsn));
    const int32_t partition = kafka::PartitionForKey(key, 2);
    // 250 other jongeren with a vrijstelling, on the jongere's partition.
    std::vector<signaling::testing::Persoon> others;
    for (int64_t n = 100'000'000; others.size() < 250; ++n) {
      signaling::testing::Persoon o;
      o.bsn = std::to_string(n);
      if (o.bsn == x.bsn || !identity::IsValidBsn(o.bsn)) continue;
      if (kafka::PartitionForKey(pseudo_.Of(signaling::testing::LeerlingBsn(o.bsn)), 2) != partition) continue;
      others.push_back(o);
    }
    auto vrijstelling = [&](const signaling::testing::Persoon& p, const std::string& id) {
      return events::Encode(
          signaling::testing::Vrijstelling(p, id, v1::VRIJSTELLING_ARTIKEL_5_ONDER_A, "2024-01-10"), pseudo_,
          absl::Now());
    };
    for (size_t i = 0; i < 200; ++i) Produce(vrijstelling(others[i], absl::StrCat("v", i)));
    absl::SleepFor(absl::Milliseconds(5));  // accepted in distinct milliseconds
    Produce(events::Encode(signaling::testing::Uitschrijving(x, "u-x", "2024-01-15"), pseudo_, absl::Now()));
    absl::SleepFor(absl::Milliseconds(5));
    Produce(vrijstelling(x, "v-x"));
    absl::SleepFor(absl::Milliseconds(5));
    for (size_t i = 200; i < others.size(); ++i) Produce(vrijstelling(others[i], absl::StrCat("v", i)));

    SignalingOptions opts;
    opts.tick = absl::Hours(1);
    opts.max_batch_records = 50;  // several batches over the backlog
    opts.arrival.max_hold = hold;
    kafka::ClientOptions service_kopts = kopts_;
    service_kopts.extra["max.partition.fetch.bytes"] = "1024";  // a few records per partition per fetch
    RunService(dir_.File("store"), 40, "sig-order", opts, service_kopts);
    std::vector<v1::Signaal> out;
    for (const kafka::InRecord& r : ReadAll(std::string(kafka::kTopicSignalen))) {
      v1::Signaal s;
      EXPECT_TRUE(s.ParseFromString(r.value));
      if (r.key == key) out.push_back(s);
    }
    return out;
  }
};

TEST_F(SignalingArrivalOrderTest, AnUitschrijvingWaitsForTheVrijstellingAcceptedBeforeItIsReadOnAnotherTopic) {
  for (const v1::Signaal& s : Run(absl::Seconds(30))) {
    ADD_FAILURE() << "signal " << v1::SignaalSoort_Name(s.soort()) << " on " << s.peildatum()
                  << ": the vrijstelling covers the uitschrijving";
  }
}

TEST_F(SignalingArrivalOrderTest, ControlWithoutHoldingTheUitschrijvingIsJudgedAlone) {
  const std::vector<v1::Signaal> signals = Run(absl::ZeroDuration());
  std::set<v1::SignaalSoort> soorten;
  for (const v1::Signaal& s : signals) soorten.insert(s.soort());
  EXPECT_TRUE(soorten.contains(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM));
  EXPECT_TRUE(soorten.contains(v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST));
}

// A batch's jongeren applied on one thread or on several (--apply-threads)
// give each jongere the signals the core gives it alone, once, and send each
// poison record to the DLQ once.
class SignalingApplyThreadsTest : public SignalingServiceTest, public ::testing::WithParamInterface<int> {
 public:
  static double AppliedInParallel() { return RegistryValue("inbeeld_signaling_batches_applied_in_parallel_total"); }
  static double HoldTimeouts() { return RegistryValue("inbeeld_signaling_input_hold_timeouts_total"); }
};

TEST_P(SignalingApplyThreadsTest, EveryJongereGetsTheCoresSignalsOnce) {
  namespace t = signaling::testing;
  // 160 jongeren in four kinds of history, on both partitions.
  std::map<std::string, std::vector<v1::Event>> histories;  // by pseudonym
  int made = 0;
  for (int64_t n = 100'000'000; made < 160; ++n) {
    t::Persoon p;
    p.bsn = std::to_string(n);
    if (!identity::IsValidBsn(p.bsn)) continue;
    const std::string id = absl::StrCat("j", made);
    std::vector<v1::Event> history;
    switch (made % 4) {
      case 0:  // uitgeschreven: absoluut verzuim
        history = {t::Inschrijving(p, id + "-i", "2023-08-28"), t::Uitschrijving(p, id + "-u", "2024-01-15")};
        break;
      case 1:  // elsewhere within days: nothing
        history = {t::Uitschrijving(p, id + "-u", "2024-01-15"),
                   t::Inschrijving(p, id + "-i", "2024-01-16", v1::ONDERWIJSSOORT_VO, "07AB")};
        break;
      case 2:  // elsewhere after weeks: absoluut verzuim, then opgelost
        history = {t::Uitschrijving(p, id + "-u", "2024-01-10"),
                   t::Inschrijving(p, id + "-i", "2024-02-20", v1::ONDERWIJSSOORT_VO, "07AB")};
        break;
      default:  // ingeschreven: nothing
        history = {t::Inschrijving(p, id + "-i", "2023-08-28")};
    }
    for (const v1::Event& e : history) Produce(events::Encode(e, pseudo_, absl::Now()));
    histories[pseudo_.Of(t::LeerlingBsn(p.bsn))] = std::move(history);
    ++made;
  }
  Produce({std::string(kafka::kTopicInschrijvingsmutaties), 0, "k0", "\x01garbage", {}});
  Produce({std::string(kafka::kTopicInschrijvingsmutaties), 1, "k1", "\x02garbage", {}});

  const double parallel_before = AppliedInParallel();
  const double hold_timeouts_before = HoldTimeouts();
  SignalingOptions opts;
  opts.tick = absl::Hours(1);
  opts.apply_threads = GetParam();
  // Each jongere's history must be judged as a whole, as the core's replay judges it. Under CI load a partition's
  // fetches can stall for seconds; after max_hold (5 s) the service releases what it holds without waiting for
  // them (by design), and an uitschrijving judged without the inschrijving right behind it gets a provisional
  // absoluut verzuim and its resolution (seen once in CI). Here nothing is released before its time: the hold is
  // long, and the run goes on until nothing is held.
  opts.arrival.max_hold = absl::Minutes(10);
  RunService(dir_.File("store"), 20, "sig-threads", opts, kopts_, /*settle=*/true);
  EXPECT_EQ(HoldTimeouts(), hold_timeouts_before) << "records released before their time";
  if (GetParam() > 1) {
    EXPECT_GT(AppliedInParallel(), parallel_before) << "no batch was applied on more than one thread";
  } else {
    EXPECT_EQ(AppliedInParallel(), parallel_before);
  }

  // What the store committed carries on: a restart two months later fires the
  // timers of every jongere from its stored state and wake-up entry.
  for (const std::string until : {"2024-02-29", "2024-04-30"}) {
    if (until != "2024-02-29") {
      SetToday("2024-05-01");
      RunService(dir_.File("store"), 5, "sig-threads", opts, kopts_, /*settle=*/true);
    }
    std::map<std::string, std::vector<std::pair<std::string, v1::SignaalSoort>>> got;
    std::set<std::string> ids;
    for (const kafka::InRecord& r : ReadAll(std::string(kafka::kTopicSignalen))) {
      v1::Signaal s;
      ASSERT_TRUE(s.ParseFromString(r.value));
      EXPECT_TRUE(ids.insert(s.signaal_id()).second) << "signal twice: " << s.signaal_id();
      got[r.key].emplace_back(s.peildatum(), s.soort());
    }
    size_t expected_signals = 0;
    for (const auto& [key, history] : histories) {
      // The service judges through yesterday.
      std::vector<std::pair<std::string, v1::SignaalSoort>> want;
      for (const v1::Signaal& s : t::SpeelAlsReplay(history, until)) want.emplace_back(s.peildatum(), s.soort());
      std::vector<std::pair<std::string, v1::SignaalSoort>> have = got[key];
      std::sort(want.begin(), want.end());
      std::sort(have.begin(), have.end());
      EXPECT_EQ(have, want) << "jongere " << key.substr(0, 12) << " through " << until;
      expected_signals += want.size();
    }
    EXPECT_EQ(ids.size(), expected_signals) << until;
    EXPECT_GE(expected_signals, 80u) << "the histories give signals";
  }
  EXPECT_EQ(ReadAll(kafka::DlqTopic(kafka::kTopicInschrijvingsmutaties)).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Threads, SignalingApplyThreadsTest, ::testing::Values(1, 2, 3));

// Each signal carries inbeeld_ingest_time: the ce_time ingest gave the latest
// event of its jongere applied in the batch (delivery's end-to-end latency).
// A record without ce_time gives its signals none.
TEST_F(SignalingServiceTest, ASignalCarriesTheIngestTimeOfItsJongeresLatestEvent) {
  namespace t = signaling::testing;
  const t::Persoon x;
  const absl::Time first = absl::FromUnixSeconds(1'709'280'000);  // 2024-03-01T08:00:00Z
  const absl::Time second = first + absl::Minutes(5);
  Produce(events::Encode(t::Melding(x, "m-1", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-02-20", "2024-01-22"),
                         pseudo_, first));
  RunService(dir_.File("store"), 5);
  kafka::OutRecord zonder =
      events::Encode(t::Melding(x, "m-2", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-02-27", "2024-01-29"), pseudo_,
                     second);
  std::erase_if(zonder.headers, [](const kafka::Header& h) { return h.key == kafka::kHeaderCeTime; });
  Produce(zonder);
  RunService(dir_.File("store"), 5);
  Produce(events::Encode(t::Melding(x, "m-3", v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN, "2024-02-28", "2024-01-30"),
                         pseudo_, second));
  RunService(dir_.File("store"), 5);

  std::map<std::string, std::string> ingest_time_by_melding;
  for (const kafka::InRecord& r : ReadAll(std::string(kafka::kTopicSignalen))) {
    v1::Signaal s;
    ASSERT_TRUE(s.ParseFromString(r.value));
    if (s.soort() != v1::SIGNAAL_SOORT_VERZUIMMELDING) continue;
    ingest_time_by_melding[s.melding().melding_id()] =
        kafka::FindHeader(r.headers, kafka::kHeaderIngestTime).value_or("none");
  }
  EXPECT_EQ(ingest_time_by_melding, (std::map<std::string, std::string>{
                                        {"m-1", events::Rfc3339(first)},
                                        {"m-2", "none"},
                                        {"m-3", events::Rfc3339(second)}}));
}

TEST_F(SignalingServiceTest, TimerFiresOnTheDateAndRestartDoesNotRepeatOrLose) {
  Produce(events::Encode(Uitschrijving("111222333", "u1", "2024-03-01"), pseudo_, absl::Now()));
  // A poison record and one keyed with another secret go to the DLQ.
  Produce({std::string(kafka::kTopicInschrijvingsmutaties), 0, "k", "\x01\x02garbage", {}});
  auto other = identity::Pseudonymizer::Create("another-secret-0123456789");
  Produce(events::Encode(Uitschrijving("123456782", "u2", "2024-03-01"), *other, absl::Now()));

  const std::string store_dir = dir_.File("store");
  RunService(store_dir, 40);
  EXPECT_TRUE(ReadAll(std::string(kafka::kTopicSignalen)).empty()) << "no signal before the grace period ends";
  std::vector<kafka::InRecord> dlq = ReadAll(kafka::DlqTopic(kafka::kTopicInschrijvingsmutaties));
  ASSERT_EQ(dlq.size(), 2u);
  for (const auto& r : dlq) {
    ASSERT_TRUE(kafka::FindHeader(r.headers, kafka::kHeaderDlqError).has_value());
    EXPECT_EQ(kafka::FindHeader(r.headers, kafka::kHeaderDlqTopic), std::string(kafka::kTopicInschrijvingsmutaties));
    EXPECT_EQ(kafka::FindHeader(r.headers, kafka::kHeaderDlqError)->find("123456782"), std::string::npos);
  }

  // Uitgeschreven 2024-03-01 (last day): absoluut verzuim from 03-02, signal on 03-09.
  SetToday("2024-03-10");
  RunService(store_dir, 40);
  auto signals = ReadAll(std::string(kafka::kTopicSignalen));
  ASSERT_EQ(signals.size(), 1u);
  v1::Signaal s;
  ASSERT_TRUE(s.ParseFromString(signals[0].value));
  EXPECT_EQ(s.soort(), v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
  EXPECT_EQ(s.peildatum(), "2024-03-09");
  EXPECT_EQ(signals[0].key, pseudo_.Of(Uitschrijving("111222333", "u1", "2024-03-01").inschrijvingsmutatie().leerling()));
  EXPECT_EQ(signals[0].key.find("111222333"), std::string::npos);

  // A restart over the same store: nothing repeated, nothing reprocessed.
  RunService(store_dir, 20);
  EXPECT_EQ(ReadAll(std::string(kafka::kTopicSignalen)).size(), 1u);
  EXPECT_EQ(ReadAll(kafka::DlqTopic(kafka::kTopicInschrijvingsmutaties)).size(), 2u);
}

// The state records the day of its wake-up entry in the same write as the
// entry, and the next batch of that jongere moves the entry from the day
// recorded (it does not evaluate the stored timeline to find it).
TEST_F(SignalingServiceTest, TheStateRecordsItsWakeUpEntryAndTheNextBatchMovesItFromThere) {
  namespace t = signaling::testing;
  const t::Persoon x{"111222333", "2012-05-01", "0363"};
  const v1::Event uit = Uitschrijving(x.bsn, "u1", "2024-03-01");
  const std::string pseudoniem = pseudo_.Of(uit.inschrijvingsmutatie().leerling());
  Produce(events::Encode(uit, pseudo_, absl::Now()));
  const std::string store_dir = dir_.File("store");
  RunService(store_dir, 40);

  // The entries of the jongere, and the day its state records.
  struct Gezien {
    std::vector<absl::CivilDay> entries;
    int32_t partition = -1;
    std::optional<internal::v1::JongereState> state;
  };
  const auto lees = [&]() {
    Gezien g;
    auto store = SignalingStore::Open(store_dir, false);
    EXPECT_TRUE(store.ok());
    for (int32_t p = 0; p < 2; ++p) {
      for (const auto& [day, who] : (*store)->DueWakeups(p, absl::CivilDay(2200, 12, 31))) {
        if (who == pseudoniem) g.entries.push_back(day);
      }
      auto state = (*store)->GetJongere(p, pseudoniem);
      EXPECT_TRUE(state.ok());
      if (state.ok() && state->has_value()) {
        g.partition = p;
        g.state = **state;
      }
    }
    return g;
  };
  Gezien na_uit = lees();
  ASSERT_TRUE(na_uit.state.has_value());
  // Uitgeschreven on 03-01 (the last day): absoluut verzuim from 03-02, its signal due on 03-09.
  EXPECT_EQ(na_uit.entries, std::vector<absl::CivilDay>{absl::CivilDay(2024, 3, 9)});
  ASSERT_TRUE(na_uit.state->has_wekker_in_index());
  EXPECT_EQ(na_uit.state->wekker_in_index(), "2024-03-09");

  // The entry and its record moved together to a day the timeline would not
  // give (03-07): only a batch that goes by the record finds that entry.
  {
    auto store = SignalingStore::Open(store_dir, false);
    ASSERT_TRUE(store.ok());
    StoreBatch batch;
    internal::v1::JongereState state = *na_uit.state;
    state.set_wekker_in_index("2024-03-07");
    batch.PutJongere(na_uit.partition, pseudoniem, state);
    batch.MoveWakeup(na_uit.partition, pseudoniem, absl::CivilDay(2024, 3, 9), absl::CivilDay(2024, 3, 7));
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  // Enrolled again on 03-05, inside the grace period.
  Produce(events::Encode(t::Inschrijving(x, "i2", "2024-03-05"), pseudo_, absl::Now()));
  RunService(store_dir, 40);

  const Gezien na_in = lees();
  ASSERT_TRUE(na_in.state.has_value());
  EXPECT_EQ(na_in.state->feiten_size(), 2);
  ASSERT_TRUE(na_in.state->has_wekker_in_index());
  std::vector<absl::CivilDay> recorded;
  if (!na_in.state->wekker_in_index().empty()) recorded.push_back(*util::ParseDate(na_in.state->wekker_in_index()));
  EXPECT_EQ(na_in.entries, recorded) << "one entry, where the state says; none left behind on 03-07";
}

// A wake-up entry that is not the jongere's own (a store that was away longer
// than the changelog keeps the tombstones of moved entries) fires once and
// goes; the jongere's own entry stays.
TEST_F(SignalingServiceTest, AStaleWakeUpEntryFiresOnceAndGoes) {
  const v1::Event uit = Uitschrijving("111222333", "u1", "2024-03-01");
  const std::string pseudoniem = pseudo_.Of(uit.inschrijvingsmutatie().leerling());
  Produce(events::Encode(uit, pseudo_, absl::Now()));
  const std::string store_dir = dir_.File("store");
  RunService(store_dir, 40);
  const auto entries = [&]() {
    std::vector<absl::CivilDay> out;
    auto store = SignalingStore::Open(store_dir, false);
    EXPECT_TRUE(store.ok());
    for (int32_t p = 0; p < 2; ++p) {
      for (const auto& [day, who] : (*store)->DueWakeups(p, absl::CivilDay(2200, 12, 31))) {
        if (who == pseudoniem) out.push_back(day);
      }
    }
    return out;
  };
  ASSERT_EQ(entries(), std::vector<absl::CivilDay>{absl::CivilDay(2024, 3, 9)});
  {
    auto store = SignalingStore::Open(store_dir, false);
    ASSERT_TRUE(store.ok());
    for (int32_t p = 0; p < 2; ++p) {
      auto state = (*store)->GetJongere(p, pseudoniem);
      ASSERT_TRUE(state.ok());
      if (!state->has_value()) continue;
      StoreBatch batch;
      batch.MoveWakeup(p, pseudoniem, std::nullopt, absl::CivilDay(2024, 3, 4));  // the stale one
      ASSERT_TRUE((*store)->Commit(batch).ok());
    }
  }
  ASSERT_EQ(entries(), (std::vector<absl::CivilDay>{absl::CivilDay(2024, 3, 4), absl::CivilDay(2024, 3, 9)}));
  SetToday("2024-03-06");  // the tick's horizon is 03-05: only the stale entry is due
  RunService(store_dir, 40);
  EXPECT_EQ(entries(), std::vector<absl::CivilDay>{absl::CivilDay(2024, 3, 9)});
  EXPECT_TRUE(ReadAll(std::string(kafka::kTopicSignalen)).empty()) << "nothing was due on 03-05";
}

TEST_F(SignalingServiceTest, OnAssignmentTheGroupIsToldWhatTheStoreHoldsWithoutNewInput) {
  for (int i = 0; i < 6; ++i) {
    Produce(events::Encode(Uitschrijving(std::to_string(111222333 + i * 9), absl::StrCat("o", i), "2024-03-01"),
                           pseudo_, absl::Now()));
  }
  const std::string store_dir = dir_.File("store");
  RunService(store_dir, 20);
  // A commit lost in a rebalance (asynchronous, refused while the group
  // rebalances), modelled by a group that never got one: the same store under
  // another group, and no new input to commit after.
  RunService(store_dir, 5, "sig-test-lost");
  kafka::BacklogOptions bo;
  bo.kafka = kopts_;
  bo.group_id = "sig-test-lost";
  for (std::string_view t : kafka::kEventTopics) bo.topics.emplace_back(t);
  bo.refresh = absl::Milliseconds(100);
  auto monitor = kafka::BacklogMonitor::Start(bo);
  ASSERT_TRUE(monitor.ok()) << monitor.status();
  int64_t produced = 0;
  int64_t backlog = -1;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline && (produced != 6 || backlog != 0)) {
    absl::SleepFor(absl::Milliseconds(200));
    produced = 0;
    backlog = 0;
    for (const auto& [tp, b] : (*monitor)->Snapshot()) {
      produced += b.end;
      backlog += b.records();
    }
  }
  EXPECT_EQ(produced, 6);
  EXPECT_EQ(backlog, 0) << "the group's offsets stay behind what the store processed";
}

TEST_F(SignalingServiceTest, AnotherInstanceRestoresThePartitionFromTheChangelog) {
  Produce(events::Encode(Uitschrijving("111222333", "u1", "2024-03-01"), pseudo_, absl::Now()));
  RunService(dir_.File("a"), 40);
  // A fresh instance (empty store) takes over: it must not process the event
  // again from offset 0, but restore the state and fire the timer.
  SetToday("2024-03-10");
  RunService(dir_.File("b"), 40);
  auto signals = ReadAll(std::string(kafka::kTopicSignalen));
  ASSERT_EQ(signals.size(), 1u);
  auto store = SignalingStore::Open(dir_.File("b"), false);
  ASSERT_TRUE(store.ok());
  const std::string pseudoniem =
      pseudo_.Of(Uitschrijving("111222333", "u1", "2024-03-01").inschrijvingsmutatie().leerling());
  auto found = (*store)->FindJongere(pseudoniem);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->feiten_size(), 1);
}

// The partition (of 2) a jongere's state is in, per the store at `dir`.
int32_t PartitionOf(const std::string& dir, const std::string& pseudoniem) {
  auto store = SignalingStore::Open(dir, false);
  EXPECT_TRUE(store.ok());
  for (int32_t p = 0; p < 2; ++p) {
    auto got = (*store)->GetJongere(p, pseudoniem);
    if (got.ok() && got->has_value()) return p;
  }
  ADD_FAILURE() << "jongere not in the store";
  return 0;
}

std::string StateOf(const std::string& dir, int32_t partition, const std::string& pseudoniem) {
  auto store = SignalingStore::Open(dir, false);
  EXPECT_TRUE(store.ok());
  auto got = (*store)->GetJongere(partition, pseudoniem);
  EXPECT_TRUE(got.ok() && got->has_value());
  return got.ok() && got->has_value() ? (*got)->SerializeAsString() : "";
}

TEST_F(SignalingServiceTest, PartitionBackFromAnotherInstanceCatchesUpFromTheCheckpoint) {
  const v1::Event u1 = Uitschrijving("111222333", "u1", "2024-03-01");
  const std::string pseudoniem = pseudo_.Of(u1.inschrijvingsmutatie().leerling());
  Produce(events::Encode(u1, pseudo_, absl::Now()));
  RunService(dir_.File("a"), 40);  // A: the jongere, no signal yet
  const int32_t partition = PartitionOf(dir_.File("a"), pseudoniem);
  const std::string state_at_a = StateOf(dir_.File("a"), partition, pseudoniem);
  {
    auto a = SignalingStore::Open(dir_.File("a"), false);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE((*a)->GetChangelogCheckpoint(partition).has_value()) << "a commit records the changelog checkpoint";
  }

  // The partition moves to B, which fires the timer (its update: the signal
  // is in the jongere's state as emitted) and processes another event.
  SetToday("2024-03-10");
  Produce(events::Encode(Uitschrijving("123456782", "u2", "2024-03-05"), pseudo_, absl::Now()));
  RunService(dir_.File("b"), 40);
  ASSERT_EQ(ReadAll(std::string(kafka::kTopicSignalen)).size(), 1u);
  const std::string state_at_b = StateOf(dir_.File("b"), partition, pseudoniem);
  ASSERT_NE(state_at_a, state_at_b);

  // Back to A: its local state is older. It must take B's updates from the
  // changelog, not judge the old state again (that would emit the same
  // ABSOLUUT_VERZUIM a second time).
  RunService(dir_.File("a"), 40);
  EXPECT_EQ(ReadAll(std::string(kafka::kTopicSignalen)).size(), 1u) << "A repeated B's signal: stale local state";
  EXPECT_EQ(StateOf(dir_.File("a"), partition, pseudoniem), state_at_b);
  auto a = SignalingStore::Open(dir_.File("a"), false);
  auto b = SignalingStore::Open(dir_.File("b"), false);
  ASSERT_TRUE(a.ok() && b.ok());
  for (auto t : kafka::kEventTopics) {
    for (int32_t p = 0; p < 2; ++p) {
      EXPECT_EQ((*a)->GetOffset({std::string(t), p}), (*b)->GetOffset({std::string(t), p})) << t << "/" << p;
    }
  }
  for (int32_t p = 0; p < 2; ++p) {
    int64_t end = -1;
    ASSERT_TRUE(kafka::ReadPartitionToEnd(kopts_, {std::string(kafka::kTopicSignalingChangelog), p}, 0,
                                          [](const kafka::InRecord&) {}, absl::Seconds(10), &end)
                    .ok());
    EXPECT_EQ((*a)->GetChangelogCheckpoint(p), end) << "partition " << p;
  }
}

TEST_F(SignalingServiceTest, BatchCutShortAtTheChangelogTailIsNotRestoredAndIsRewritten) {
  const v1::Event u1 = Uitschrijving("111222333", "u1", "2024-03-01");
  const std::string pseudoniem = pseudo_.Of(u1.inschrijvingsmutatie().leerling());
  Produce(events::Encode(u1, pseudo_, absl::Now()));
  RunService(dir_.File("a"), 40);
  const int32_t partition = PartitionOf(dir_.File("a"), pseudoniem);
  const std::string committed = StateOf(dir_.File("a"), partition, pseudoniem);

  // A crash after part of a batch's changelog was written: a state record
  // without the commit point (offsets) that ends every batch.
  internal::v1::JongereState uncommitted;
  ASSERT_TRUE(uncommitted.ParseFromString(committed));
  uncommitted.set_woongemeente("0599");
  Produce({std::string(kafka::kTopicSignalingChangelog), partition, SignalingStore::JongereKey(partition, pseudoniem),
           uncommitted.SerializeAsString(), {}});

  RunService(dir_.File("b"), 20);  // restores from the beginning
  EXPECT_EQ(StateOf(dir_.File("b"), partition, pseudoniem), committed);
  // The tail is followed by the committed value and a commit point, so a later
  // restore (which applies up to the last commit point) gets it right too.
  RunService(dir_.File("c"), 20);
  EXPECT_EQ(StateOf(dir_.File("c"), partition, pseudoniem), committed);
}

}  // namespace
}  // namespace inbeeld::signaling

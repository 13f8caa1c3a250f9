// A batch whose outputs Kafka does not acknowledge (here: produce requests refused with NOT_ENOUGH_REPLICAS until
// message.timeout.ms, as when the in-sync replicas of a partition are lost; on Apache Kafka also an idempotent
// producer that librdkafka declared fatal after a leader change) stops signaling's loop with nothing committed.
// The service resumes from its stored offsets in the same process: it stays up, and every melding still becomes
// its VERZUIMMELDING signal.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "inbeeld/events/event_record.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/signaal.pb.h"
#include "services/signaling/core/tests/test_events.h"
#include "signaling_under_test.h"

namespace inbeeld::crash {
namespace {

constexpr char kSecret[] = "resume-test-secret-0123456789";

TEST(SignalingResumeTest, UnacknowledgedOutputsResumeInProcessFromTheStoredOffsets) {
  testing_util::TempDir dir;
  auto cluster = kafka::EmbeddedCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopics(kafka::InBeeldTopics(1, 1)).ok());
  auto pseudo = identity::Pseudonymizer::Create(kSecret);
  ASSERT_TRUE(pseudo.ok());

  // Twenty meldingen: each gives a VERZUIMMELDING signal at once.
  kafka::ClientOptions kopts;
  kopts.bootstrap_servers = (*cluster)->bootstrap_servers();
  auto producer = kafka::Producer::Create(kopts);
  ASSERT_TRUE(producer.ok());
  constexpr int kMeldingen = 20;
  for (int i = 0; i < kMeldingen; ++i) {
    signaling::testing::Persoon p;
    p.bsn = i % 2 == 0 ? "111222333" : "123456782";
    const v1::Event e = signaling::testing::Melding(p, absl::StrCat("m", i), v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN,
                                                    "2024-03-01", "2024-02-05", "2024-02-29");
    ASSERT_TRUE((*producer)->ProduceSync(events::Encode(e, *pseudo, absl::Now()), absl::Seconds(10)).ok());
  }
  // Every produce request for the next while fails: signaling's first batches are not acknowledged within its
  // message.timeout.ms of 1 s.
  (*cluster)->FailProduceRequests(60);

  SignalingUnderTest signaling({"resume", (*cluster)->bootstrap_servers(), dir.path(), kSecret,
                                "message.timeout.ms=1000,retry.backoff.ms=50"});
  ASSERT_TRUE(signaling.SetToday(absl::CivilDay(2024, 3, 2)).ok());
  ASSERT_TRUE(signaling.Start().ok()) << signaling.LogTail();

  std::set<std::string> meldingen;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (meldingen.size() < kMeldingen && absl::Now() < deadline) {
    meldingen.clear();
    (void)kafka::ReadPartitionToEnd(
        kopts, {std::string(kafka::kTopicSignalen), 0}, 0,
        [&](const kafka::InRecord& r) {
          v1::Signaal s;
          if (s.ParseFromString(r.value) && s.soort() == v1::SIGNAAL_SOORT_VERZUIMMELDING) {
            meldingen.insert(s.signaal_id());
          }
        },
        absl::Seconds(5));
    if (!signaling.Running()) break;
    absl::SleepFor(absl::Milliseconds(300));
  }
  EXPECT_TRUE(signaling.Running()) << "signaling stopped instead of resuming:\n" << signaling.LogTail();
  EXPECT_EQ(meldingen.size(), static_cast<size_t>(kMeldingen)) << signaling.LogTail();
  const std::string log = testing_util::ReadFileOrEmpty(dir.File("resume-1.err"));  // the first start's stderr
  EXPECT_NE(log.find("resuming from the stored offsets"), std::string::npos)
      << "the refused produce requests did not reach signaling's loop:\n" << signaling.LogTail();
  EXPECT_TRUE(signaling.Stop().ok());
}

}  // namespace
}  // namespace inbeeld::crash

// LeerplichtService.Status: open cases and the latest signals next to the
// plichtstatus, from request facts and from stored state.
#include "inbeeld/signaling/leerplicht_service.h"

#include <algorithm>

#include "child_process.h"
#include "gtest/gtest.h"
#include "services/signaling/core/tests/test_events.h"

namespace inbeeld::signaling {
namespace {

using testing::Inschrijving;
using testing::Persoon;
using testing::Uitschrijving;

class VasteDatum final : public DateSource {
 public:
  absl::CivilDay Today() const override { return absl::CivilDay(2025, 3, 1); }
};

// A 14-year-old in Amsterdam (leerplichtig, Leerplichtwet art. 3): removed
// from school on 2024-10-01, enrolled at another school on 2025-01-06. After
// the grace the absoluut verzuim opens; the new inschrijving closes it.
std::vector<v1::Event> Verloop(const Persoon& p) {
  return {Inschrijving(p, "in-1", "2022-08-22"),
          Uitschrijving(p, "uit-1", "2024-10-01", v1::UITSCHRIJFREDEN_VERWIJDERING),
          Inschrijving(p, "in-2", "2025-01-06", v1::ONDERWIJSSOORT_VO, "06AB")};
}

class LeerplichtServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SignalingStore::Open(dir_.path(), false);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto pseudo = identity::Pseudonymizer::Create(std::string(identity::Pseudonymizer::kDevelopmentSecret));
    ASSERT_TRUE(pseudo.ok());
    pseudo_ = std::make_unique<identity::Pseudonymizer>(*std::move(pseudo));
    service_ = std::make_unique<LeerplichtServiceImpl>(*store_, *pseudo_, dates_, CoreConfig());
  }

  v1::StatusResponse Ask(const std::string& peildatum, bool met_feiten) {
    v1::StatusRequest req;
    *req.mutable_leerling() = testing::LeerlingBsn();
    req.set_peildatum(peildatum);
    if (met_feiten) {
      for (const v1::Event& e : Verloop(persoon_)) *req.add_feiten() = e;
    }
    v1::StatusResponse resp;
    grpc::ServerContext ctx;
    grpc::Status st = service_->Status(&ctx, &req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  }

  // Stores the jongere as the pipeline would have on `geevalueerd`: every
  // fact known, the end of each day up to `geevalueerd` evaluated.
  void Bewaar(absl::CivilDay geevalueerd) {
    const std::string pseudoniem = pseudo_->Of(testing::LeerlingBsn());
    Jongere j;
    for (const v1::Event& e : Verloop(persoon_)) j.Apply(e, pseudoniem, CoreConfig());
    j.AdvanceTo(geevalueerd, pseudoniem, CoreConfig());
    StoreBatch b;
    b.PutJongere(0, pseudoniem, j.ToState());
    ASSERT_TRUE(store_->Commit(b).ok());
  }

  testing_util::TempDir dir_;
  std::unique_ptr<SignalingStore> store_;
  std::unique_ptr<identity::Pseudonymizer> pseudo_;
  VasteDatum dates_;
  std::unique_ptr<LeerplichtServiceImpl> service_;
  Persoon persoon_;
};

const v1::SignaalOverzicht* Soort(const v1::StatusResponse& r, v1::SignaalSoort soort) {
  for (const v1::SignaalOverzicht& s : r.laatste_signalen()) {
    if (s.soort() == soort) return &s;
  }
  return nullptr;
}

TEST_F(LeerplichtServiceTest, OpenAbsoluutVerzuimIsAnOpenCaseWithItsOpeningSignal) {
  v1::StatusResponse r = Ask("2024-12-01", /*met_feiten=*/true);
  EXPECT_EQ(r.status(), v1::PLICHTSTATUS_LEERPLICHTIG);
  EXPECT_TRUE(r.absoluut_verzuim());
  ASSERT_EQ(r.open_zaken_size(), 1) << r.DebugString();
  const v1::OpenZaak& zaak = r.open_zaken(0);
  EXPECT_EQ(zaak.soort(), v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
  EXPECT_EQ(zaak.woongemeente(), "0363");
  // The situation starts when the school removed the jongere; the signal
  // follows after the grace (CoreConfig: 7 days), both before peildatum.
  EXPECT_GE(zaak.begindatum(), "2024-10-01");
  EXPECT_LE(zaak.begindatum(), "2024-10-02");
  const v1::SignaalOverzicht* av = Soort(r, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM);
  ASSERT_NE(av, nullptr) << r.DebugString();
  EXPECT_EQ(av->signaal_id(), zaak.signaal_id());
  EXPECT_GT(av->peildatum(), zaak.begindatum());
  EXPECT_LE(av->peildatum(), "2024-10-10");
  EXPECT_EQ(r.laatste_signalen(0).signaal_id(), av->signaal_id()) << "newest first";
}

TEST_F(LeerplichtServiceTest, NewInschrijvingClosesTheCaseAndTheOpgelostNamesIt) {
  const std::string av_id = Ask("2024-12-01", true).open_zaken(0).signaal_id();
  v1::StatusResponse r = Ask("2025-02-01", /*met_feiten=*/true);
  EXPECT_FALSE(r.absoluut_verzuim());
  EXPECT_EQ(r.open_zaken_size(), 0) << r.DebugString();
  ASSERT_GE(r.laatste_signalen_size(), 2);
  EXPECT_EQ(r.laatste_signalen(0).peildatum(), "2025-01-06") << "newest first";
  const v1::SignaalOverzicht* opgelost = Soort(r, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST);
  ASSERT_NE(opgelost, nullptr) << r.DebugString();
  EXPECT_EQ(opgelost->peildatum(), "2025-01-06");
  EXPECT_EQ(opgelost->zaak_signaal_id(), av_id);
  // 90 days without news after the removal (geen_nieuws_days) the jongere was
  // also uit beeld; the inschrijving closes that case too (WEER_IN_BEELD).
  const v1::SignaalOverzicht* uit_beeld = Soort(r, v1::SIGNAAL_SOORT_UIT_BEELD);
  const v1::SignaalOverzicht* weer = Soort(r, v1::SIGNAAL_SOORT_WEER_IN_BEELD);
  ASSERT_NE(uit_beeld, nullptr) << r.DebugString();
  ASSERT_NE(weer, nullptr) << r.DebugString();
  EXPECT_EQ(weer->zaak_signaal_id(), uit_beeld->signaal_id());
  EXPECT_EQ(weer->peildatum(), "2025-01-06");
  for (int i = 1; i < r.laatste_signalen_size(); ++i) {
    EXPECT_GE(r.laatste_signalen(i - 1).peildatum(), r.laatste_signalen(i).peildatum());
  }
}

TEST_F(LeerplichtServiceTest, UitBeeldIsAnOpenCaseNextToTheAbsoluutVerzuim) {
  v1::StatusResponse r = Ask("2025-01-05", /*met_feiten=*/true);
  EXPECT_TRUE(r.absoluut_verzuim());
  EXPECT_TRUE(r.uit_beeld());
  ASSERT_EQ(r.open_zaken_size(), 2) << r.DebugString();
  EXPECT_EQ(r.open_zaken(0).soort(), v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM) << "oldest first";
  EXPECT_EQ(r.open_zaken(1).soort(), v1::SIGNAAL_SOORT_UIT_BEELD);
}

TEST_F(LeerplichtServiceTest, StoredStateListsOnlySignalsAlreadyEmitted) {
  // The pipeline evaluated through 2024-12-01: the absoluut verzuim went out,
  // the OPGELOST of 2025-01-06 not yet.
  Bewaar(absl::CivilDay(2024, 12, 1));
  v1::StatusResponse open = Ask("2024-12-01", /*met_feiten=*/false);
  ASSERT_EQ(open.open_zaken_size(), 1) << open.DebugString();
  ASSERT_NE(Soort(open, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM), nullptr);
  EXPECT_EQ(Soort(open, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM)->signaal_id(), open.open_zaken(0).signaal_id());
  // The same ids as computed from the facts alone (deterministic).
  EXPECT_EQ(open.open_zaken(0).signaal_id(), Ask("2024-12-01", true).open_zaken(0).signaal_id());

  v1::StatusResponse later = Ask("2025-02-01", /*met_feiten=*/false);
  EXPECT_EQ(later.open_zaken_size(), 0) << "the facts say the case closed on 2025-01-06";
  EXPECT_EQ(Soort(later, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST), nullptr) << "not emitted yet";
  EXPECT_NE(Soort(later, v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM), nullptr);
}

TEST_F(LeerplichtServiceTest, AtMostTenSignalsNewestFirst) {
  // Eleven verzuimmeldingen, one a week: each is a VERZUIMMELDING signal.
  v1::StatusRequest req;
  *req.mutable_leerling() = testing::LeerlingBsn();
  req.set_peildatum("2025-06-01");
  *req.add_feiten() = Inschrijving(persoon_, "in-1", "2022-08-22");
  absl::CivilDay dag(2025, 1, 6);
  for (int i = 0; i < 11; ++i, dag += 7) {
    *req.add_feiten() = testing::Melding(persoon_, "m-" + std::to_string(i), v1::VERZUIM_SOORT_16_UUR_IN_4_WEKEN,
                                         util::FormatDate(dag), util::FormatDate(dag - 28));
  }
  v1::StatusResponse r;
  grpc::ServerContext ctx;
  ASSERT_TRUE(service_->Status(&ctx, &req, &r).ok());
  ASSERT_EQ(r.laatste_signalen_size(), 10);
  EXPECT_EQ(r.laatste_signalen(0).peildatum(), util::FormatDate(dag - 7));
  EXPECT_EQ(r.laatste_signalen(9).peildatum(), "2025-01-13") << "the oldest of eleven is left out";
  EXPECT_EQ(r.open_zaken_size(), 0);
}

}  // namespace
}  // namespace inbeeld::signaling

#include "inbeeld/signaling/core/state_codec.h"

#include <random>
#include <set>

#include "bench/common/school_year_mix.h"
#include "gtest/gtest.h"
#include "inbeeld/signaling/core/jongere.h"
#include "inbeeld/util/dates.h"
#include "services/signaling/core/tests/test_events.h"

namespace inbeeld::signaling {
namespace {

namespace t = testing;

// The state after a generated school year, applied as the service does.
internal::v1::JongereState SchoolJaar(int i, std::mt19937& rng, std::vector<v1::Signaal>* signalen = nullptr) {
  const std::vector<v1::Event> ev = bench::SchoolYearMix(std::to_string(100000000 + i), rng);
  const CoreConfig config;
  const std::string pseudo(64, 'a');
  Jongere j;
  for (const v1::Event& e : ev) {
    for (auto& s : j.Apply(e, pseudo, config)) {
      if (signalen) signalen->push_back(s);
    }
    for (auto& s : j.AdvanceTo(*DatumVan(e), pseudo, config)) {
      if (signalen) signalen->push_back(s);
    }
  }
  j.AdvanceTo(*DatumVan(ev.back()) + 200, pseudo, config);
  return j.ToState();
}

void ExpectRoundTrip(const internal::v1::JongereState& state) {
  const std::string bytes = EncodeJongereState(state);
  absl::StatusOr<internal::v1::JongereState> terug = DecodeJongereState(bytes);
  ASSERT_TRUE(terug.ok()) << terug.status();
  EXPECT_EQ(terug->SerializeAsString(), state.SerializeAsString()) << terug->DebugString() << "\nvs\n"
                                                                   << state.DebugString();
}

TEST(StateCodecTest, GeneratedSchoolYearsRoundTripExactlyAndShrink) {
  std::mt19937 rng(7);
  size_t oud = 0, nieuw = 0, zaken = 0;
  for (int i = 0; i < 300; ++i) {
    const internal::v1::JongereState state = SchoolJaar(i, rng);
    zaken += static_cast<size_t>(state.av_zaken_size());
    ExpectRoundTrip(state);
    const std::string bytes = EncodeJongereState(state);
    EXPECT_EQ(bytes.front(), kCompactStateVersion);
    oud += state.ByteSizeLong();
    nieuw += bytes.size();
  }
  EXPECT_GT(zaken, 0u);  // the cases (with routes) are covered too
  // The point of the format: at most a third of the protobuf size.
  EXPECT_LT(nieuw * 3, oud) << "protobuf " << oud / 300 << " vs compact " << nieuw / 300 << " bytes per jongere";
}

// The stored form is what stores and changelogs already hold: its bytes must
// not change when the codec does. Pinned to the bytes of the reflection-based
// encoder that wrote them first (FNV-1a over 300 generated school years).
TEST(StateCodecTest, StoredBytesStayTheSame) {
  std::mt19937 rng(7);
  uint64_t fnv = 1469598103934665603ull;
  size_t bytes = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string b = EncodeJongereState(SchoolJaar(i, rng));
    for (unsigned char c : b) {
      fnv ^= c;
      fnv *= 1099511628211ull;
    }
    bytes += b.size();
  }
  EXPECT_EQ(bytes, 59924u);
  EXPECT_EQ(fnv, 0x0e137dc24cc6afeaull);
}

TEST(StateCodecTest, OldFormatIsStillRead) {
  std::mt19937 rng(8);
  const internal::v1::JongereState state = SchoolJaar(1, rng);
  const std::string oud = state.SerializeAsString();
  ASSERT_NE(oud.front(), kCompactStateVersion);
  absl::StatusOr<internal::v1::JongereState> terug = DecodeJongereState(oud);
  ASSERT_TRUE(terug.ok());
  EXPECT_EQ(terug->SerializeAsString(), oud);
}

TEST(StateCodecTest, ContinuingFromADecodedStateEqualsNeverStopping) {
  // What replay == service rests on: a jongere restored from the store
  // emits exactly what an uninterrupted one emits.
  std::mt19937 rng(9);
  const CoreConfig config;
  const std::string pseudo(64, 'b');
  for (int i = 0; i < 50; ++i) {
    const std::vector<v1::Event> ev = bench::SchoolYearMix(std::to_string(200000000 + i), rng);
    Jongere doorlopend, herstart;
    std::vector<std::string> a, b;
    for (size_t k = 0; k < ev.size(); ++k) {
      const absl::CivilDay d = *DatumVan(ev[k]);
      for (const auto& s : doorlopend.Apply(ev[k], pseudo, config)) a.push_back(s.SerializeAsString());
      for (const auto& s : doorlopend.AdvanceTo(d, pseudo, config)) a.push_back(s.SerializeAsString());
      herstart = Jongere::FromState(*DecodeJongereState(EncodeJongereState(herstart.ToState())));
      for (const auto& s : herstart.Apply(ev[k], pseudo, config)) b.push_back(s.SerializeAsString());
      for (const auto& s : herstart.AdvanceTo(d, pseudo, config)) b.push_back(s.SerializeAsString());
    }
    const absl::CivilDay eind = *DatumVan(ev.back()) + 400;
    for (const auto& s : doorlopend.AdvanceTo(eind, pseudo, config)) a.push_back(s.SerializeAsString());
    herstart = Jongere::FromState(*DecodeJongereState(EncodeJongereState(herstart.ToState())));
    for (const auto& s : herstart.AdvanceTo(eind, pseudo, config)) b.push_back(s.SerializeAsString());
    EXPECT_EQ(a, b) << "jongere " << i;
    EXPECT_EQ(herstart.ToState().SerializeAsString(), doorlopend.ToState().SerializeAsString());
  }
}

TEST(StateCodecTest, AStateWithWholeSignalIdsEmitsNothingTwice) {
  // States written before kept whole signal ids; the core now keeps 64-bit
  // prefixes. An old state must not make it emit its signals again.
  std::mt19937 rng(11);
  const CoreConfig config;
  const std::string pseudo(64, 'c');
  int vergeleken = 0;
  for (int i = 0; i < 40; ++i) {
    const std::vector<v1::Event> ev = bench::SchoolYearMix(std::to_string(300000000 + i), rng);
    Jongere j;
    std::set<std::string> ids;
    for (const v1::Event& e : ev) {
      for (const auto& s : j.Apply(e, pseudo, config)) ids.insert(s.signaal_id());
      for (const auto& s : j.AdvanceTo(*DatumVan(e), pseudo, config)) ids.insert(s.signaal_id());
    }
    internal::v1::JongereState oud = j.ToState();
    ASSERT_EQ(static_cast<size_t>(oud.uitgegeven_signaal_ids_size()), ids.size());
    oud.clear_uitgegeven_signaal_ids();
    for (const std::string& id : ids) oud.add_uitgegeven_signaal_ids(id);  // the whole ids, as before
    Jongere herstart = Jongere::FromState(*DecodeJongereState(oud.SerializeAsString()));
    EXPECT_EQ(herstart.ToState().SerializeAsString(), j.ToState().SerializeAsString());
    const absl::CivilDay eind = *DatumVan(ev.back()) + 400;
    std::vector<std::string> a, b;
    for (const auto& s : j.AdvanceTo(eind, pseudo, config)) a.push_back(s.SerializeAsString());
    for (const auto& s : herstart.AdvanceTo(eind, pseudo, config)) b.push_back(s.SerializeAsString());
    EXPECT_EQ(a, b);
    for (const auto& s : herstart.Apply(ev.front(), pseudo, config)) EXPECT_FALSE(ids.contains(s.signaal_id()));
    vergeleken += static_cast<int>(ids.size());
  }
  EXPECT_GT(vergeleken, 40);
}

TEST(StateCodecTest, OddValuesRoundTrip) {
  internal::v1::JongereState state;
  t::Persoon p;
  v1::Event m = t::Melding(p, "2024-01-01", v1::VERZUIM_SOORT_LUXE, "2024-02-01", "2024-1-5", "2024-01-20");
  m.mutable_verzuimmelding()->clear_einddatum();  // absent
  *state.add_feiten() = m;
  v1::Event m2 = m;
  m2.mutable_verzuimmelding()->set_einddatum("");  // present but empty
  m2.mutable_verzuimmelding()->set_geboortedatum("onbekend");
  m2.mutable_verzuimmelding()->mutable_leerling()->set_onderwijsnummer("123456789");
  *state.add_feiten() = m2;
  v1::Event m3 = m2;
  m3.mutable_verzuimmelding()->clear_leerling();
  m3.mutable_verzuimmelding()->set_verzuim_uren(4000000000u);
  m3.mutable_verzuimmelding()->set_soort(static_cast<v1::VerzuimSoort>(-7));  // open enum: a value from a newer writer
  *state.add_feiten() = m3;
  *state.add_feiten() = v1::Event();  // no kind
  *state.add_feiten() = t::Vrijstelling(p, "v", v1::VRIJSTELLING_ARTIKEL_5_ONDER_B, "1900-01-01", "2200-12-31");
  state.add_uitgegeven_signaal_ids("0123456789abcdef0123456789abcdef");
  state.add_uitgegeven_signaal_ids("NOT-HEX-0123456789abcdef01234567");
  state.add_uitgegeven_signaal_ids("kort");
  auto* z = state.add_av_zaken();
  z->set_signaal_id("not-emitted");
  z->set_begindatum("");
  auto* r = z->add_routes();
  r->set_woongemeente("0363");
  r->set_peildatum("2024-02-08");
  r->set_achttien_plus(true);
  auto* z2 = state.add_av_zaken();
  z2->set_signaal_id("kort");
  z2->set_begindatum("2024-02-01");
  state.set_absoluut_verzuim_open(true);
  state.set_uit_beeld(true);
  state.set_wekker("2200-12-31");
  ExpectRoundTrip(state);
  ExpectRoundTrip(internal::v1::JongereState());
  EXPECT_FALSE(EncodeJongereState(internal::v1::JongereState()).empty());  // never a tombstone
}

TEST(StateCodecTest, TheWakeUpIndexDayRoundTripsInTheCompactForm) {
  // Not recorded, recorded without an entry (empty), a day, and a value that
  // is no day: each comes back as it was, in the compact form.
  std::mt19937 rng(12);
  const internal::v1::JongereState basis = SchoolJaar(4, rng);
  ASSERT_FALSE(basis.has_wekker_in_index());
  for (const char* waarde : {"", "2025-03-01", "1999-12-31", "geen-dag"}) {
    internal::v1::JongereState state = basis;
    state.set_wekker_in_index(waarde);
    const std::string bytes = EncodeJongereState(state);
    EXPECT_EQ(bytes.front(), kCompactStateVersion) << waarde;
    ExpectRoundTrip(state);
    absl::StatusOr<internal::v1::JongereState> terug = DecodeJongereState(bytes);
    ASSERT_TRUE(terug.ok());
    EXPECT_TRUE(terug->has_wekker_in_index()) << waarde;
    EXPECT_EQ(terug->wekker_in_index(), waarde);
  }
  absl::StatusOr<internal::v1::JongereState> zonder = DecodeJongereState(EncodeJongereState(basis));
  ASSERT_TRUE(zonder.ok());
  EXPECT_FALSE(zonder->has_wekker_in_index());
}

TEST(StateCodecTest, EveryDayOfTheYearsADateCanHaveRoundTrips) {
  // The decoder writes dates from a day number (not through absl::CivilDay):
  // the same text for every day, leap days and century years included, and
  // the first and last day "YYYY-MM-DD" can hold.
  std::vector<absl::CivilDay> dagen = {absl::CivilDay(0, 1, 1), absl::CivilDay(9999, 12, 31),
                                       absl::CivilDay(1900, 2, 28), absl::CivilDay(2000, 2, 29),
                                       absl::CivilDay(2100, 3, 1)};
  for (absl::CivilDay d(1582, 1, 1); d <= absl::CivilDay(2400, 12, 31); d += 1) dagen.push_back(d);
  for (absl::CivilDay d(0, 1, 1); d <= absl::CivilDay(9999, 12, 31); d += 997) dagen.push_back(d);
  int vergeleken = 0;
  for (size_t i = 0; i + 1 < dagen.size(); i += 2) {
    internal::v1::JongereState state;
    state.set_geevalueerd_tot(util::FormatDate(dagen[i]));
    state.set_wekker(util::FormatDate(dagen[i + 1]));  // a delta from the one before, both ways
    ASSERT_EQ(state.geevalueerd_tot().size(), 10u);
    const absl::StatusOr<internal::v1::JongereState> terug = DecodeJongereState(EncodeJongereState(state));
    ASSERT_TRUE(terug.ok()) << state.geevalueerd_tot();
    ASSERT_EQ(terug->geevalueerd_tot(), state.geevalueerd_tot());
    ASSERT_EQ(terug->wekker(), state.wekker());
    ++vergeleken;
  }
  EXPECT_GT(vergeleken, 150000);
}

TEST(StateCodecTest, ADateOutsideTheYearsADateCanHaveIsDataLoss) {
  // A compact state without events, ids or cases whose geevalueerd_tot is the
  // day `delta` days from 2020-01-01 (its first date value: a zigzag delta,
  // kDatum), then woongemeente and wekker empty and no flags. One day past
  // 9999-12-31 or before 0000-01-01 is corrupt.
  const auto met_delta = [](int64_t delta) {
    std::string b(1, kCompactStateVersion);
    b += std::string("\0\0\0", 3);  // events, ids, cases
    uint64_t v = ((static_cast<uint64_t>(delta) << 1) ^ static_cast<uint64_t>(delta >> 63)) << 2;
    while (v >= 0x80) {
      b.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    b.push_back(static_cast<char>(v));
    b += std::string("\2\2\0", 3);  // two empty literals, the flags
    return b;
  };
  const int64_t tot_laatste = absl::CivilDay(9999, 12, 31) - absl::CivilDay(2020, 1, 1);
  const int64_t tot_eerste = absl::CivilDay(0, 1, 1) - absl::CivilDay(2020, 1, 1);
  for (const auto& [delta, datum] : {std::pair<int64_t, std::string>{tot_laatste, "9999-12-31"},
                                     {tot_eerste, "0000-01-01"}, {0, "2020-01-01"}}) {
    const absl::StatusOr<internal::v1::JongereState> state = DecodeJongereState(met_delta(delta));
    ASSERT_TRUE(state.ok()) << datum;
    EXPECT_EQ(state->geevalueerd_tot(), datum);
  }
  for (const int64_t delta : {tot_laatste + 1, tot_eerste - 1, int64_t{1} << 40, -(int64_t{1} << 40)}) {
    EXPECT_EQ(DecodeJongereState(met_delta(delta)).status().code(), absl::StatusCode::kDataLoss) << delta;
  }
}

TEST(StateCodecTest, FlagsFromANewerWriterAreDataLoss) {
  // The last byte of a state without a recorded wake-up day is its flags
  // (bits 1 and 2 at most here): a bit this reader does not know is not
  // dropped silently.
  std::mt19937 rng(13);
  std::string bytes = EncodeJongereState(SchoolJaar(5, rng));
  ASSERT_LT(static_cast<unsigned char>(bytes.back()), 4u);
  bytes.back() = static_cast<char>(bytes.back() | 8);
  EXPECT_EQ(DecodeJongereState(bytes).status().code(), absl::StatusCode::kDataLoss);
}

TEST(StateCodecTest, UnknownFieldsFallBackToProtobuf) {
  internal::v1::JongereState state;
  state.set_woongemeente("0363");
  state.GetReflection()->MutableUnknownFields(&state)->AddVarint(99, 5);  // from a newer writer
  const std::string bytes = EncodeJongereState(state);
  EXPECT_NE(bytes.front(), kCompactStateVersion);
  absl::StatusOr<internal::v1::JongereState> terug = DecodeJongereState(bytes);
  ASSERT_TRUE(terug.ok());
  EXPECT_EQ(terug->SerializeAsString(), state.SerializeAsString());
}

TEST(StateCodecTest, CorruptCompactBytesAreDataLoss) {
  std::mt19937 rng(10);
  const std::string bytes = EncodeJongereState(SchoolJaar(3, rng));
  for (size_t n = 1; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeJongereState(bytes.substr(0, n)).status().code(), absl::StatusCode::kDataLoss) << n;
  }
  EXPECT_EQ(DecodeJongereState(bytes + "x").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeJongereState("\xff\xff").status().code(), absl::StatusCode::kDataLoss);
}

TEST(StateCodecTest, EveryStateFieldIsCovered) {
  // The compact form writes these fields; a new JongereState field makes
  // EncodeJongereState fall back to protobuf (correct, but large) until the
  // codec learns it. This test is the reminder.
  EXPECT_EQ(internal::v1::JongereState::descriptor()->field_count(), 9);
  EXPECT_EQ(internal::v1::AbsoluutVerzuimZaak::descriptor()->field_count(), 3);
  EXPECT_EQ(v1::ZaakRoute::descriptor()->field_count(), 3);
}

}  // namespace
}  // namespace inbeeld::signaling

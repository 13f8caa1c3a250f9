#include "inbeeld/signaling/replay/replay.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::signaling {
namespace {

namespace fs = std::filesystem;

std::string Lees(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> Scenarios() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator("tests/scenarios")) {
    const std::string naam = e.path().filename().string();
    if (naam.size() > 13 && naam.ends_with(".events.jsonl")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ReplayScenarioTest, EveryScenarioMatchesItsExpectedSignalsExactly) {
  const std::vector<fs::path> scenarios = Scenarios();
  ASSERT_GE(scenarios.size(), 3u) << "run from the source root";
  for (const fs::path& events : scenarios) {
    std::string expected_path = events.string();
    expected_path.replace(expected_path.size() - std::string("events.jsonl").size(), std::string::npos,
                          "expected.jsonl");
    std::ifstream in(events);
    std::ostringstream out;
    ASSERT_TRUE(Replay(in, out, ReplayOptions()).ok()) << events;
    EXPECT_EQ(out.str(), Lees(expected_path)) << events;
  }
}

TEST(ReplayScenarioTest, LineOrderDoesNotMatter) {
  for (const fs::path& events : Scenarios()) {
    std::vector<std::string> regels;
    std::istringstream in(Lees(events));
    for (std::string l; std::getline(in, l);) regels.push_back(l);
    std::mt19937 rng(3);
    std::shuffle(regels.begin(), regels.end(), rng);
    std::string geschud;
    for (const std::string& l : regels) geschud += l + "\n\n";  // blank lines are fine
    std::istringstream a(Lees(events)), b(geschud);
    std::ostringstream oa, ob;
    ASSERT_TRUE(Replay(a, oa, ReplayOptions()).ok());
    ASSERT_TRUE(Replay(b, ob, ReplayOptions()).ok());
    EXPECT_EQ(oa.str(), ob.str()) << events;
  }
}

TEST(ReplayScenarioTest, SpilledToTemporaryFilesOnAnyNumberOfThreadsGivesTheSameBytes) {
  // The bounded-memory path (parts in temporary files, runs merged) must
  // write exactly what the in-memory path writes.
  const fs::path tmp = fs::temp_directory_path() / ("inbeeld_replay_spill_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const char* oud = std::getenv("TMPDIR");
  const std::string oud_tmpdir = oud != nullptr ? oud : "";
  setenv("TMPDIR", tmp.c_str(), 1);
  std::string alles;
  for (const fs::path& events : Scenarios()) {
    std::istringstream a(Lees(events)), b(Lees(events));
    std::ostringstream oa, ob;
    ReplayOptions geheugen;
    geheugen.threads = 1;
    ReplayOptions schijf;
    schijf.spill_bytes = 1;  // spill at once
    schijf.threads = 3;
    ASSERT_TRUE(Replay(a, oa, geheugen).ok()) << events;
    ASSERT_TRUE(Replay(b, ob, schijf).ok()) << events;
    EXPECT_EQ(oa.str(), ob.str()) << events;
    alles += oa.str();
  }
  EXPECT_FALSE(alles.empty());
  // The temporary files are gone, also after a bad line.
  {
    std::istringstream in(Lees(Scenarios().front()) + "{not json\n");
    std::ostringstream out;
    ReplayOptions schijf;
    schijf.spill_bytes = 1;
    EXPECT_EQ(Replay(in, out, schijf).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(out.str(), "");
  }
  // Stopped (the CLI's SIGINT/SIGTERM): Cancelled, nothing written, no files left.
  {
    std::istringstream in(Lees(Scenarios().front()));
    std::ostringstream out;
    std::atomic<bool> stop{true};
    ReplayOptions schijf;
    schijf.spill_bytes = 1;
    schijf.stop = &stop;
    EXPECT_EQ(Replay(in, out, schijf).code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(out.str(), "");
  }
  EXPECT_TRUE(fs::is_empty(tmp));
  if (oud != nullptr) {
    setenv("TMPDIR", oud_tmpdir.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
  fs::remove_all(tmp);
}

constexpr char kGoed[] =
    R"({"inschrijvingsmutatie":{"mutatieId":"u1","bron":"05KO","leerling":{"bsn":"111222333"},)"
    R"("geboortedatum":"2010-03-15","brin":"05KO","woongemeente":"0363","soort":"MUTATIE_SOORT_UITSCHRIJVING",)"
    R"("ingangsdatum":"2024-03-01","onderwijssoort":"ONDERWIJSSOORT_VO","uitschrijfreden":"UITSCHRIJFREDEN_VERWIJDERING"}})";

TEST(ReplayTest, UntilLimitsTheEvaluation) {
  ReplayOptions o;
  o.until = *util::ParseDate("2024-03-08");
  std::istringstream in(std::string(kGoed) + "\n");
  std::ostringstream out;
  ASSERT_TRUE(Replay(in, out, o).ok());
  EXPECT_EQ(out.str(), "");
  o.until = *util::ParseDate("2024-03-09");
  std::istringstream in2(std::string(kGoed) + "\n");
  ASSERT_TRUE(Replay(in2, out, o).ok());
  EXPECT_THAT(out.str(), ::testing::HasSubstr(R"("peildatum":"2024-03-09")"));
  EXPECT_THAT(out.str(), ::testing::HasSubstr("SIGNAAL_SOORT_ABSOLUUT_VERZUIM"));
}

TEST(ReplayTest, ParallelReadingReportsTheFirstBadLine) {
  // Lines are parsed in blocks on several threads; the error is still the
  // first bad line's, whichever block fails first.
  for (const size_t threads : {1u, 4u}) {
    std::string tekst;
    for (int i = 1; i <= 9000; ++i) {
      tekst += (i == 2500 || i == 8000) ? std::string("{not json") : std::string(kGoed);
      tekst += "\n";
    }
    std::istringstream in(tekst);
    std::ostringstream out;
    ReplayOptions o;
    o.threads = threads;
    const absl::Status st = Replay(in, out, o);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(st.message()), ::testing::StartsWith("line 2500: ")) << threads;
    EXPECT_EQ(out.str(), "");
  }
}

TEST(ReplayTest, PseudonymSecretChangesPseudonymAndIds) {
  std::istringstream a(kGoed), b(kGoed);
  std::ostringstream oa, ob;
  ReplayOptions o;
  ASSERT_TRUE(Replay(a, oa, o).ok());
  o.pseudonym_secret = "another-secret-of-enough-length";
  ASSERT_TRUE(Replay(b, ob, o).ok());
  EXPECT_FALSE(oa.str().empty());
  EXPECT_NE(oa.str(), ob.str());
}

struct BadCase {
  std::string naam;
  std::string regel;
};

class BadLineTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadLineTest, ExitTwoWithLineNumberNothingOnStdout) {
  const fs::path file = fs::temp_directory_path() / ("inbeeld_replay_bad_" + GetParam().naam + ".jsonl");
  {
    std::ofstream f(file);
    f << kGoed << "\n\n" << GetParam().regel << "\n" << kGoed << "\n";
  }
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int rc = ReplayMain({file.string()});
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  fs::remove(file);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(out, "");
  EXPECT_THAT(err, ::testing::StartsWith("line 3: "));
  // Never the identifier.
  EXPECT_THAT(err, ::testing::Not(::testing::HasSubstr("111222334")));
  EXPECT_THAT(err, ::testing::Not(::testing::HasSubstr("111222333")));
}

INSTANTIATE_TEST_SUITE_P(
    Replay, BadLineTest,
    ::testing::Values(BadCase{"geen_json", "{not json"},
                      BadCase{"onbekend_veld", R"({"foo":{"bsn":"111222334"}})"},
                      BadCase{"ongeldig_bsn", std::string(kGoed).replace(std::string(kGoed).find("111222333"), 9,
                                                                        "111222334")},
                      BadCase{"leeg_event", "{}"}),
    [](const auto& info) { return info.param.naam; });

TEST(ReplayMainTest, UsageErrors) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(ReplayMain({}), 2);
  EXPECT_EQ(ReplayMain({"x.jsonl", "--until", "2024-13-01"}), 2);
  EXPECT_EQ(ReplayMain({"x.jsonl", "--bogus"}), 2);
  EXPECT_EQ(ReplayMain({"x.jsonl", "y.jsonl"}), 2);
  EXPECT_EQ(ReplayMain({"x.jsonl", "--progress=maybe"}), 2);
  EXPECT_EQ(ReplayMain({"/nonexistent/file.jsonl"}), 1);
  ::testing::internal::GetCapturedStderr();
}

TEST(ReplayMainTest, HelpExitsZero) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(ReplayMain({"--help"}), 0);
  EXPECT_THAT(::testing::internal::GetCapturedStdout(), ::testing::HasSubstr("--until"));
}

TEST(ReplayMainTest, WritesSignalsAndProgress) {
  const fs::path file = fs::temp_directory_path() / "inbeeld_replay_ok.jsonl";
  {
    std::ofstream f(file);
    f << kGoed << "\n";
  }
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int rc = ReplayMain({file.string(), "--progress", "--until=2024-03-31"});
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  fs::remove(file);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_THAT(err, ::testing::HasSubstr("1/1 jongeren"));
}

}  // namespace
}  // namespace inbeeld::signaling

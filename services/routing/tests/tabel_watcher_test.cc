#include "inbeeld/routing/tabel_watcher.h"

#include "inbeeld/routing/router.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace inbeeld::routing {
namespace {

namespace fs = std::filesystem;

constexpr char kHeader[] =
    "gemeentecode,organisatie_id,organisatie_naam,oin,geldig_van,geldig_tot,"
    "achttien_plus_organisatie_id\n";
constexpr char kHerindelingen[] =
    "ingangsdatum,oude_gemeentecode,oude_gemeentenaam,nieuwe_gemeentecode,nieuwe_gemeentenaam\n"
    "2023-01-01,0501,Brielle,1992,Voorne aan Zee\n";

class TabelWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("inbeeld-routing-watcher-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write("herindelingen.csv", kHerindelingen);
    Write("organisaties.csv", std::string(kHeader) + "1992,oud,Oud,,,,\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes a file and moves its mtime forward, so a change is visible even
  // on a file system with coarse timestamps (no sleeping in tests).
  void Write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    const bool existed = fs::exists(path);
    const auto before = existed ? fs::last_write_time(path) : fs::file_time_type();
    {
      std::ofstream out(path, std::ios::trunc);
      out << content;
    }
    if (existed) fs::last_write_time(path, before + std::chrono::seconds(++bumps_));
  }

  std::string RouteBrielle(const TabelWatcher& w) {
    return w.Current()->Route("0501", absl::CivilDay(2022, 12, 31), false).organisaties[0].id;
  }

  double Reloads(const std::string& result) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "inbeeld_routing_table_reloads_total") continue;
      for (const auto& m : family.metric) {
        if (m.label[0].value == result) return m.counter.value;
      }
    }
    return -1;
  }

  TabelBestanden Bestanden() const {
    return {dir_ / "organisaties.csv", dir_ / "herindelingen.csv"};
  }

  fs::path dir_;
  int bumps_ = 0;
  prometheus::Registry registry_;
};

TEST_F(TabelWatcherTest, ReloadsChangedFileAndKeepsOldTableOnError) {
  auto watcher = TabelWatcher::Start(Bestanden(), absl::ZeroDuration(), registry_);
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  TabelWatcher& w = **watcher;
  EXPECT_EQ(RouteBrielle(w), "oud");
  EXPECT_EQ(w.generation(), 1u);

  // Unchanged files: nothing happens.
  EXPECT_TRUE(w.CheckNow().ok());
  EXPECT_EQ(w.generation(), 1u);

  // A new file: the new route, and a snapshot taken before keeps the old one.
  std::shared_ptr<const OrganisatieTabel> before = w.Current();
  Write("organisaties.csv", std::string(kHeader) + "1992,nieuw,Nieuw,,,,\n");
  EXPECT_TRUE(w.CheckNow().ok());
  EXPECT_EQ(RouteBrielle(w), "nieuw");
  EXPECT_EQ(w.generation(), 2u);
  EXPECT_EQ(before->Route("1992", absl::CivilDay(2024, 1, 1), false).organisaties[0].id, "oud");

  // A broken file: rejected with its line number, the table stays.
  Write("organisaties.csv", std::string(kHeader) + "1992,nieuw,Nieuw,,,,\n1992,x,X,,,,\n");
  absl::Status s = w.CheckNow();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("organisaties.csv:3:"), std::string_view::npos) << s;
  EXPECT_EQ(RouteBrielle(w), "nieuw");
  EXPECT_EQ(w.generation(), 2u);
  EXPECT_EQ(Reloads("error"), 1);
  EXPECT_EQ(Reloads("ok"), 2);

  // A broken herindelingen file is rejected the same way.
  Write("organisaties.csv", std::string(kHeader) + "1992,derde,Derde,,,,\n");
  Write("herindelingen.csv", "ingangsdatum,oude_gemeentecode,nieuwe_gemeentecode\nx,0501,1992\n");
  EXPECT_FALSE(w.CheckNow().ok());
  EXPECT_EQ(RouteBrielle(w), "nieuw");

  // Fixed: installed.
  Write("herindelingen.csv", kHerindelingen);
  EXPECT_TRUE(w.CheckNow().ok());
  EXPECT_EQ(RouteBrielle(w), "derde");
  EXPECT_EQ(w.generation(), 3u);
}

TEST_F(TabelWatcherTest, RouterSeesTheReloadedTable) {
  auto watcher = TabelWatcher::Start(Bestanden(), absl::ZeroDuration(), registry_);
  ASSERT_TRUE(watcher.ok());
  Router router((*watcher)->Bron());
  v1::Signaal s;
  s.set_signaal_id("x");
  s.set_woongemeente("0501");
  s.set_peildatum("2023-06-01");
  auto before = router.Route(s);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->afleveringen[0].organisatie_id, "oud");
  Write("organisaties.csv", std::string(kHeader) + "1992,nieuw,Nieuw,,,,\n");
  ASSERT_TRUE((*watcher)->CheckNow().ok());
  auto after = router.Route(s);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->afleveringen[0].organisatie_id, "nieuw");
}

TEST_F(TabelWatcherTest, MissingFileKeepsTable) {
  auto watcher = TabelWatcher::Start(Bestanden(), absl::ZeroDuration(), registry_);
  ASSERT_TRUE(watcher.ok());
  fs::remove(dir_ / "organisaties.csv");
  EXPECT_FALSE((*watcher)->CheckNow().ok());
  EXPECT_EQ(RouteBrielle(**watcher), "oud");
}

TEST_F(TabelWatcherTest, BadInitialFileIsAnError) {
  Write("organisaties.csv", std::string(kHeader) + "19,x,X,,,,\n");
  auto watcher = TabelWatcher::Start(Bestanden(), absl::ZeroDuration(), registry_);
  EXPECT_EQ(watcher.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TabelWatcherTest, PollingThreadStartsAndStops) {
  // Only checks that the thread is joined cleanly; reload behaviour is tested
  // through CheckNow above without timing.
  auto watcher = TabelWatcher::Start(Bestanden(), absl::Milliseconds(1), registry_);
  ASSERT_TRUE(watcher.ok());
  EXPECT_EQ(RouteBrielle(**watcher), "oud");
  watcher->reset();
}

}  // namespace
}  // namespace inbeeld::routing

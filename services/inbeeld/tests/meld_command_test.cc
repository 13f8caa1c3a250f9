#include "inbeeld/cli/meld_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"

namespace inbeeld::cli {
namespace {

constexpr char kBsn[] = "123456782";

// A MeldingService on 127.0.0.1:0 that answers MeldBundles and MeldBatch by
// rules in the melding_id: "bad-..." is rejected with a field violation,
// "busy-..." is answered UNAVAILABLE the first time a call gets that far. The
// first `fail_calls` calls fail as a whole with UNAVAILABLE (or `fail_code`).
// WithoutBundles: MeldBundles is UNIMPLEMENTED, as in an ingest from before it.
class FakeMelding final : public v1::MeldingService::Service {
 public:
  grpc::Status MeldBatch(grpc::ServerContext*, grpc::ServerReader<v1::Event>* reader,
                         v1::BatchAntwoord* resp) override {
    std::vector<std::string> ids;
    for (v1::Event e; reader->Read(&e);) ids.push_back(e.verzuimmelding().melding_id());
    std::lock_guard<std::mutex> lock(mu_);
    ++batch_calls_;
    return Answer(ids, resp);
  }
  grpc::Status MeldBundles(grpc::ServerContext*, grpc::ServerReader<v1::EventBundle>* reader,
                           v1::BatchAntwoord* resp) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!bundles_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
    }
    std::vector<std::string> ids;
    std::vector<int> sizes;
    for (v1::EventBundle b; reader->Read(&b);) {
      sizes.push_back(b.events_size());
      for (const v1::Event& e : b.events()) ids.push_back(e.verzuimmelding().melding_id());
    }
    std::lock_guard<std::mutex> lock(mu_);
    bundle_sizes_.insert(bundle_sizes_.end(), sizes.begin(), sizes.end());
    return Answer(ids, resp);
  }

  grpc::Status Answer(const std::vector<std::string>& ids, v1::BatchAntwoord* resp) {
    ++calls_;
    for (const auto& id : ids) ++sent_[id];
    if (fail_calls_ > 0) {
      --fail_calls_;
      return grpc::Status(fail_code_, "ingest is not ready");
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      auto* item = resp->add_items();
      item->set_index(static_cast<uint32_t>(i));
      const std::string& id = ids[i];
      if (id.rfind("bad-", 0) == 0) {
        item->set_code(grpc::StatusCode::INVALID_ARGUMENT);
        item->set_message("invalid event");
        auto* v = item->add_violations();
        v->set_field("verzuimmelding.leerling.bsn");
        v->set_description("fails the eleven-test");
        resp->set_rejected(resp->rejected() + 1);
        continue;
      }
      if (id.rfind("busy-", 0) == 0 && busy_answered_[id]++ == 0) {
        item->set_code(grpc::StatusCode::UNAVAILABLE);
        resp->set_rejected(resp->rejected() + 1);
        continue;
      }
      item->set_code(0);
      item->mutable_antwoord()->set_event_id(absl::StrCat("ce-", id));
      item->mutable_antwoord()->set_duplicate(accepted_[id]++ > 0);
      resp->set_accepted(resp->accepted() + 1);
    }
    return grpc::Status::OK;
  }

  void WithoutBundles() {
    std::lock_guard<std::mutex> lock(mu_);
    bundles_ = false;
  }
  // Calls of MeldBatch (MeldBundles' are calls() less these).
  int batch_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_calls_;
  }
  // The number of events of every MeldBundles message, in order of arrival.
  std::vector<int> bundle_sizes() {
    std::lock_guard<std::mutex> lock(mu_);
    return bundle_sizes_;
  }

  void FailCalls(int n, grpc::StatusCode code = grpc::StatusCode::UNAVAILABLE) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_calls_ = n;
    fail_code_ = code;
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::map<std::string, int> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  std::map<std::string, int> accepted() {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }

 private:
  std::mutex mu_;
  int calls_ = 0;
  int batch_calls_ = 0;
  bool bundles_ = true;
  std::vector<int> bundle_sizes_;
  int fail_calls_ = 0;
  grpc::StatusCode fail_code_ = grpc::StatusCode::UNAVAILABLE;
  std::map<std::string, int> sent_;
  std::map<std::string, int> accepted_;
  std::map<std::string, int> busy_answered_;
};

std::string Melding(const std::string& id) {
  return absl::StrCat(R"({"verzuimmelding":{"meldingId":")", id, R"(","bron":"school-1","leerling":{"bsn":")",
                      kBsn, R"("},"soort":"VERZUIM_SOORT_LUXE"}})");
}

// `n` meldingen with ids m0, m1, …, each id followed by `padding`.
std::vector<std::string> Meldingen(int n, const std::string& padding = "") {
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) lines.push_back(Melding(absl::StrCat("m", i, padding)));
  return lines;
}

class MeldCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc_util::TlsOptions tls;
    tls.plaintext = true;
    auto server = grpc_util::Server::Start("127.0.0.1:0", tls, {&fake_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("meld_test_", ::getpid(), "_", ::testing::UnitTest::GetInstance()->random_seed());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::vector<std::string>& lines) {
    const std::string path = (dir_ / "events.jsonl").string();
    std::ofstream f(path);
    for (const auto& l : lines) f << l << "\n";
    return path;
  }
  std::vector<std::string> Args(const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {file, absl::StrCat("--address=127.0.0.1:", server_->port()), "--plaintext"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  FakeMelding fake_;
  std::unique_ptr<grpc_util::Server> server_;
  std::filesystem::path dir_;
};

TEST_F(MeldCommandTest, EveryLineAcceptedExitsZero) {
  std::vector<std::string> lines;
  for (int i = 0; i < 25; ++i) lines.push_back(Melding(absl::StrCat("m", i)));
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write(lines), {"--streams=3", "--batch=4"}), in, out, err), 0) << out.str() << err.str();
  EXPECT_EQ(fake_.accepted().size(), 25u);
  EXPECT_NE(out.str().find("25 accepted"), std::string::npos) << out.str();
  // 25 lines in batches of 4: 7 calls, each of MeldBundles.
  EXPECT_EQ(fake_.calls(), 7);
  EXPECT_EQ(fake_.batch_calls(), 0);
}

TEST_F(MeldCommandTest, EventsGoInBundlesOfAtMostAHundred) {
  const std::vector<std::string> lines = Meldingen(250);
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write(lines), {"--streams=1", "--batch=250"}), in, out, err), 0) << out.str() << err.str();
  EXPECT_EQ(fake_.accepted().size(), 250u);
  EXPECT_EQ(fake_.calls(), 1);
  EXPECT_EQ(fake_.bundle_sizes(), (std::vector<int>{100, 100, 50}));
}

TEST_F(MeldCommandTest, ABundleEndsOnceItsLinesReachOneMebibyte) {
  // Lines of ~20 KB: the bundle closes at the line that brings it to 1 MiB.
  const std::vector<std::string> lines = Meldingen(60, "-" + std::string(20000, 'x'));
  const size_t per_bundle = ((1u << 20) + lines[0].size() - 1) / lines[0].size();
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write(lines), {"--streams=1", "--batch=60"}), in, out, err), 0) << out.str() << err.str();
  EXPECT_EQ(fake_.accepted().size(), 60u);
  EXPECT_EQ(fake_.bundle_sizes(),
            (std::vector<int>{static_cast<int>(per_bundle), 60 - static_cast<int>(per_bundle)}));
}

TEST_F(MeldCommandTest, BundlesFalseSendsThroughMeldBatch) {
  const std::vector<std::string> lines = Meldingen(10);
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write(lines), {"--batch=4", "--bundles=false"}), in, out, err), 0) << out.str() << err.str();
  EXPECT_EQ(fake_.accepted().size(), 10u);
  EXPECT_EQ(fake_.batch_calls(), 3);
  EXPECT_EQ(fake_.calls(), 3);
  EXPECT_TRUE(fake_.bundle_sizes().empty());
}

TEST_F(MeldCommandTest, AServiceWithoutMeldBundlesGetsEveryLineThroughMeldBatch) {
  fake_.WithoutBundles();
  std::vector<std::string> lines;
  for (int i = 0; i < 25; ++i) lines.push_back(Melding(absl::StrCat("m", i)));
  lines.push_back(Melding("bad-1"));
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write(lines), {"--streams=3", "--batch=4", "--retries=0"}), in, out, err), 1)
      << out.str() << err.str();
  // Every line once, through MeldBatch: 26 lines in batches of 4. The refused
  // MeldBundles calls are not counted as attempts (--retries=0).
  EXPECT_EQ(fake_.batch_calls(), 7);
  EXPECT_EQ(fake_.calls(), 7);
  EXPECT_EQ(fake_.accepted().size(), 25u);
  for (const auto& [id, n] : fake_.sent()) EXPECT_EQ(n, 1) << id;
  EXPECT_NE(out.str().find("25 accepted"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("line 26: verzuimmelding.leerling.bsn"), std::string::npos) << out.str();
}

TEST_F(MeldCommandTest, ReadsStdinAndCountsDuplicatesAsAccepted) {
  std::istringstream in(Melding("a") + "\n\n" + Melding("a") + "\n");
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args("-", {"--streams=1", "--batch=1"}), in, out, err), 0) << out.str() << err.str();
  EXPECT_NE(out.str().find("2 accepted (1 duplicate)"), std::string::npos) << out.str();
}

TEST_F(MeldCommandTest, SummaryNamesEveryRejectedLineWithoutTheIdentifier) {
  const std::string path = Write({Melding("ok-1"), Melding("bad-2"), R"({"verzuimmelding": )" + std::string(kBsn),
                                  "", Melding("ok-5"), "{}", Melding("bad-7")});
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(path, {"--batch=2"}), in, out, err), 1);
  const std::string summary = out.str();
  EXPECT_NE(summary.find("2 accepted"), std::string::npos) << summary;
  EXPECT_NE(summary.find("4 rejected"), std::string::npos) << summary;
  EXPECT_NE(summary.find("line 2: verzuimmelding.leerling.bsn: fails the eleven-test"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("line 3: -: not a valid inbeeld.v1.Event JSON object"), std::string::npos) << summary;
  EXPECT_NE(summary.find("line 6: event: no event kind"), std::string::npos) << summary;
  EXPECT_NE(summary.find("line 7: verzuimmelding.leerling.bsn"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("line 1:"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("line 5:"), std::string::npos) << summary;
  EXPECT_EQ((summary + err.str()).find(kBsn), std::string::npos);
}

// Rejected lines are parsed on the chunk's arena too; after --batch of them a
// chunk goes early and a new arena begins. Every valid line on either side of
// such a hand-over is still sent once, and every rejected line named.
TEST_F(MeldCommandTest, RunsOfRejectedLinesLongerThanABatchLoseNoValidLine) {
  std::vector<std::string> lines;
  std::vector<size_t> rejected_nrs;
  int valid = 0;
  for (int run = 0; run < 6; ++run) {
    for (int bad = 0; bad < run; ++bad) {
      lines.push_back(run % 2 == 0 ? "{\"verzuimmelding\": " : "{}");
      rejected_nrs.push_back(lines.size());
    }
    lines.push_back(Melding(absl::StrCat("v", valid++)));
  }
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write(lines), {"--streams=2", "--batch=2"}), in, out, err), 1) << out.str() << err.str();
  const std::string summary = out.str();
  EXPECT_NE(summary.find(absl::StrCat(valid, " accepted")), std::string::npos) << summary;
  EXPECT_NE(summary.find(absl::StrCat(rejected_nrs.size(), " rejected")), std::string::npos) << summary;
  for (size_t nr : rejected_nrs) EXPECT_NE(summary.find(absl::StrCat("line ", nr, ":")), std::string::npos) << nr;
  const std::map<std::string, int> sent = fake_.sent();
  ASSERT_EQ(sent.size(), static_cast<size_t>(valid));
  for (const auto& [id, times] : sent) EXPECT_EQ(times, 1) << id;
}

TEST_F(MeldCommandTest, RetriesUnavailableCallsWithTheSameIds) {
  fake_.FailCalls(2);
  std::vector<std::string> lines;
  for (int i = 0; i < 6; ++i) lines.push_back(Melding(absl::StrCat("m", i)));
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write(lines), {"--streams=1", "--batch=6"}), in, out, err), 0) << out.str() << err.str();
  EXPECT_EQ(fake_.calls(), 3);
  // Every event was sent three times, with the same id, and accepted once.
  for (int i = 0; i < 6; ++i) {
    const std::string id = absl::StrCat("m", i);
    EXPECT_EQ(fake_.sent()[id], 3) << id;
    EXPECT_EQ(fake_.accepted()[id], 1) << id;
  }
}

TEST_F(MeldCommandTest, RetriesResourceExhaustedAndUnavailableItems) {
  fake_.FailCalls(1, grpc::StatusCode::RESOURCE_EXHAUSTED);
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write({Melding("busy-1"), Melding("m2")}), {"--streams=1"}), in, out, err), 0)
      << out.str() << err.str();
  // Call 1 refused as a whole, call 2 answers busy-1 UNAVAILABLE, call 3 sends only busy-1.
  EXPECT_EQ(fake_.calls(), 3);
  EXPECT_EQ(fake_.sent()["busy-1"], 3);
  EXPECT_EQ(fake_.sent()["m2"], 2);
  EXPECT_EQ(fake_.accepted()["busy-1"], 1);
}

TEST_F(MeldCommandTest, GivesUpAfterRetriesAndExitsOne) {
  fake_.FailCalls(100);
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write({Melding("m1")}), {"--retries=2"}), in, out, err), 1);
  EXPECT_EQ(fake_.calls(), 3);
  EXPECT_NE(out.str().find("line 1: -: not delivered after 3 attempts: UNAVAILABLE"), std::string::npos)
      << out.str();
}

TEST_F(MeldCommandTest, RefusedClientStopsAndExitsOne) {
  fake_.FailCalls(100, grpc::StatusCode::PERMISSION_DENIED);
  std::istringstream in;
  std::ostringstream out, err;
  EXPECT_EQ(MeldMain(Args(Write({Melding("m1"), Melding("m2")}), {"--batch=1", "--streams=1"}), in, out, err), 1);
  EXPECT_NE(err.str().find("refused (PERMISSION_DENIED"), std::string::npos) << err.str();
}

TEST(MeldCommandUsageTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                                         // no file
      {"f.jsonl"},                                                // no address
      {"f.jsonl", "--address=127.0.0.1:1"},                       // no TLS, no --plaintext
      {"f.jsonl", "g.jsonl", "--address=127.0.0.1:1", "--plaintext"},
      {"f.jsonl", "--address=127.0.0.1:1", "--plaintext", "--streams=0"},
      {"f.jsonl", "--address=127.0.0.1:1", "--plaintext", "--streams=x"},
      {"f.jsonl", "--address=127.0.0.1:1", "--plaintext", "--progress=sometimes"},
      {"f.jsonl", "--address=127.0.0.1:1", "--plaintext", "--bogus"},
      {"/nonexistent/events.jsonl", "--address=127.0.0.1:1", "--plaintext"},
  };
  for (const auto& args : cases) {
    std::istringstream in;
    std::ostringstream out, err;
    EXPECT_EQ(MeldMain(args, in, out, err), 2) << ::testing::PrintToString(args);
    EXPECT_NE(err.str().find("inbeeld meld"), std::string::npos);
  }
}

}  // namespace
}  // namespace inbeeld::cli

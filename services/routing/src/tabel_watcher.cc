#include "inbeeld/routing/tabel_watcher.h"

#include <pthread.h>

#include <system_error>

#include "absl/strings/str_cat.h"
#include "inbeeld/util/log.h"

namespace inbeeld::routing {

TabelWatcher::TabelWatcher(TabelBestanden bestanden, prometheus::Registry& registry)
    : bestanden_(std::move(bestanden)),
      reloads_ok_(prometheus::BuildCounter()
                      .Name("inbeeld_routing_table_reloads_total")
                      .Help("Organisation table (re)loads by result")
                      .Register(registry)
                      .Add({{"result", "ok"}})),
      reloads_error_(prometheus::BuildCounter()
                         .Name("inbeeld_routing_table_reloads_total")
                         .Help("Organisation table (re)loads by result")
                         .Register(registry)
                         .Add({{"result", "error"}})) {}

absl::StatusOr<std::unique_ptr<TabelWatcher>> TabelWatcher::Start(TabelBestanden bestanden,
                                                                  absl::Duration interval,
                                                                  prometheus::Registry& registry) {
  std::unique_ptr<TabelWatcher> watcher(new TabelWatcher(std::move(bestanden), registry));
  absl::StatusOr<Stempels> stempels = watcher->Stat();
  if (!stempels.ok()) return stempels.status();
  absl::StatusOr<OrganisatieTabel> tabel =
      OrganisatieTabel::Load(watcher->bestanden_.organisaties, watcher->bestanden_.herindelingen);
  if (!tabel.ok()) return tabel.status();
  {
    absl::MutexLock lock(&watcher->mu_);
    watcher->current_ = std::make_shared<const OrganisatieTabel>(*std::move(tabel));
    watcher->generation_ = 1;
    watcher->seen_ = *stempels;
  }
  watcher->reloads_ok_.Increment();
  watcher->interval_ = interval;
  if (interval > absl::ZeroDuration()) {
    TabelWatcher* self = watcher.get();
    watcher->thread_ = std::thread([self] {
      pthread_setname_np(pthread_self(), "tabel-watcher");
      self->Loop();
    });
  }
  return watcher;
}

TabelWatcher::~TabelWatcher() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const OrganisatieTabel> TabelWatcher::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

uint64_t TabelWatcher::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

absl::StatusOr<TabelWatcher::Stempels> TabelWatcher::Stat() const {
  Stempels s;
  for (auto [path, stempel] : {std::pair{&bestanden_.organisaties, &s.organisaties},
                               std::pair{&bestanden_.herindelingen, &s.herindelingen}}) {
    std::error_code ec;
    stempel->mtime = std::filesystem::last_write_time(*path, ec);
    if (!ec) stempel->size = std::filesystem::file_size(*path, ec);
    if (ec) return absl::NotFoundError(absl::StrCat(path->string(), ": ", ec.message()));
  }
  return s;
}

absl::Status TabelWatcher::CheckNow() {
  absl::MutexLock check(&check_mu_);
  absl::StatusOr<Stempels> stempels = Stat();
  if (!stempels.ok()) {
    // A file being replaced may be missing for a moment: keep the table.
    return stempels.status();
  }
  {
    absl::MutexLock lock(&mu_);
    if (*stempels == seen_) return absl::OkStatus();
    seen_ = *stempels;
  }
  absl::StatusOr<OrganisatieTabel> tabel =
      OrganisatieTabel::Load(bestanden_.organisaties, bestanden_.herindelingen);
  if (!tabel.ok()) {
    reloads_error_.Increment();
    util::LogError("organisation table rejected, keeping the previous one",
                   {{"error", std::string(tabel.status().message())}});
    return tabel.status();
  }
  auto fresh = std::make_shared<const OrganisatieTabel>(*std::move(tabel));
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    current_ = std::move(fresh);
    generation = ++generation_;
  }
  reloads_ok_.Increment();
  util::LogInfo("organisation table reloaded",
                {{"organisaties", bestanden_.organisaties.string()},
                 {"generation", absl::StrCat(generation)}});
  return absl::OkStatus();
}

void TabelWatcher::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_);
      if (stop_) return;
    }
    CheckNow().IgnoreError();
  }
}

}  // namespace inbeeld::routing

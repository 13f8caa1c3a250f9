#pragma once
// Reload of the organisation table without a restart (DOMAIN.md §4: a
// deployment replaces the table without a rebuild). Readers take an immutable
// snapshot (shared_ptr<const OrganisatieTabel>) and keep it for one signal or
// batch; a reload swaps the pointer. A file that fails validation never
// replaces a good table: the old one stays, an error is logged and counted.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "inbeeld/routing/organisatie_tabel.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace inbeeld::routing {

// The snapshot source the router and service read from.
using TabelBron = std::function<std::shared_ptr<const OrganisatieTabel>()>;

struct TabelBestanden {
  std::filesystem::path organisaties;
  std::filesystem::path herindelingen;
};

class TabelWatcher {
 public:
  // Loads the files once (an error here is fatal: there is no table to keep)
  // and, when `interval` > 0, starts a thread "tabel-watcher" that checks the
  // files' modification time and size every `interval`. Registers
  // inbeeld_routing_table_reloads_total{result="ok|error"} in `registry`.
  static absl::StatusOr<std::unique_ptr<TabelWatcher>> Start(TabelBestanden bestanden,
                                                             absl::Duration interval,
                                                             prometheus::Registry& registry);
  ~TabelWatcher();
  TabelWatcher(const TabelWatcher&) = delete;
  TabelWatcher& operator=(const TabelWatcher&) = delete;

  std::shared_ptr<const OrganisatieTabel> Current() const;
  TabelBron Bron() const {
    return [this] { return Current(); };
  }
  // Checks the files now (what the thread does every interval). Returns OK
  // when nothing changed or the new table was installed, the load error when
  // a changed file was rejected (the old table stays).
  absl::Status CheckNow();
  // Incremented on every installed table (starts at 1).
  uint64_t generation() const;

 private:
  struct Stempel {
    std::filesystem::file_time_type mtime;
    uintmax_t size = 0;
    bool operator==(const Stempel&) const = default;
  };
  struct Stempels {
    Stempel organisaties;
    Stempel herindelingen;
    bool operator==(const Stempels&) const = default;
  };

  TabelWatcher(TabelBestanden bestanden, prometheus::Registry& registry);
  absl::StatusOr<Stempels> Stat() const;
  void Loop();

  const TabelBestanden bestanden_;
  prometheus::Counter& reloads_ok_;
  prometheus::Counter& reloads_error_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const OrganisatieTabel> current_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  // What the last attempt (good or bad) saw: a rejected file is not retried
  // until it changes again, so the error is logged once per change.
  Stempels seen_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex check_mu_;  // serialises CheckNow callers
  absl::Duration interval_ = absl::ZeroDuration();
  std::thread thread_;
};

}  // namespace inbeeld::routing

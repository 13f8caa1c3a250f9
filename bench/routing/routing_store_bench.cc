// The routing dedupe store as routing's loop uses it: per batch, one lookup of every signaal_id (almost all
// never routed) and one Commit of the routed ids with the offsets. Items are signals. Usage:
//   build/bin/routing_store_bench [--benchmark_filter=...]
// The store starts with `range(0)` ids already routed (the skip list and table files a running service has).
// BM_OpenWithEntries: the time to open a store that remembers that many ids.
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "benchmark/benchmark.h"
#include "inbeeld/routing/routing_store.h"

namespace inbeeld::routing {
namespace {

constexpr int kBatch = 2000;  // routing's default --batch-size

// 32 hex digits like signaling's SignaalId.
std::vector<std::string> RandomIds(std::mt19937_64& rng, int n) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const uint64_t a = rng(), b = rng();
    std::string raw(16, '\0');
    for (int k = 0; k < 8; ++k) {
      raw[static_cast<size_t>(k)] = static_cast<char>(a >> (8 * k));
      raw[static_cast<size_t>(8 + k)] = static_cast<char>(b >> (8 * k));
    }
    ids.push_back(absl::BytesToHexString(raw));
  }
  return ids;
}

// Commits batches of random ids until the store remembers `n` of them. Returns the next offset, or an error.
absl::StatusOr<int64_t> Fill(RoutingStore& store, std::mt19937_64& rng, int64_t n) {
  int64_t offset = 0;
  for (int64_t filled = 0; filled < n; filled += kBatch) {
    offset += kBatch;
    if (absl::Status s = store.Commit(RandomIds(rng, kBatch), {{{"inbeeld.signalen.v1", 0}, offset}}); !s.ok()) {
      return s;
    }
  }
  return offset;
}

void BM_LookupAndCommitBatch(benchmark::State& state) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("routing_store_bench." + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  {
    auto store = RoutingStore::Open(dir, {});
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
      return;
    }
    std::mt19937_64 rng(11);
    absl::StatusOr<int64_t> filled = Fill(**store, rng, state.range(0));
    if (!filled.ok()) {
      state.SkipWithError(std::string(filled.status().message()).c_str());
      return;
    }
    int64_t offset = *filled;
    for (auto _ : state) {
      state.PauseTiming();
      std::vector<std::string> ids = RandomIds(rng, kBatch);
      offset += kBatch;
      state.ResumeTiming();
      for (const std::string& id : ids) benchmark::DoNotOptimize((*store)->IsRouted(id));
      if (absl::Status s = (*store)->Commit(ids, {{{"inbeeld.signalen.v1", 0}, offset}}); !s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        break;
      }
    }
    state.SetItemsProcessed(state.iterations() * kBatch);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_LookupAndCommitBatch)->Arg(0)->Arg(200'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// Opening a store that remembers `range(0)` ids: the index of routed ids is read from the stored queue (the
// start-up time of routing after a restart, at the default bound of 2,000,000 ids).
void BM_OpenWithEntries(benchmark::State& state) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("routing_store_bench_open." + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  {
    auto store = RoutingStore::Open(dir, {});
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
      return;
    }
    std::mt19937_64 rng(12);
    if (absl::StatusOr<int64_t> filled = Fill(**store, rng, state.range(0)); !filled.ok()) {
      state.SkipWithError(std::string(filled.status().message()).c_str());
      return;
    }
  }
  for (auto _ : state) {
    auto store = RoutingStore::Open(dir, {});
    if (!store.ok()) {
      state.SkipWithError(std::string(store.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(store->get());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_OpenWithEntries)->Arg(2'000'000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace inbeeld::routing

BENCHMARK_MAIN();

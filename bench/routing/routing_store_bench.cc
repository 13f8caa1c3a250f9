// The routing dedupe store as routing's loop uses it: per batch, one lookup of every signaal_id (almost all
// never routed) and one Commit of the routed ids with the offsets. Items are signals. Usage:
//   build/bin/routing_store_bench [--benchmark_filter=...]
// The store starts with `range(0)` ids already routed (the skip list and table files a running service has).
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
    int64_t offset = 0;
    for (int64_t filled = 0; filled < state.range(0); filled += kBatch) {
      std::vector<std::string> ids = RandomIds(rng, kBatch);
      offset += kBatch;
      if (absl::Status s = (*store)->Commit(ids, {{{"inbeeld.signalen.v1", 0}, offset}}); !s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        return;
      }
    }
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

}  // namespace
}  // namespace inbeeld::routing

BENCHMARK_MAIN();

#include "inbeeld/signaling/shard_workers.h"

#include <atomic>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace inbeeld::signaling {
namespace {

TEST(ShardWorkersTest, EveryShardOnceOnItsOwnThreadAndRunWaitsForAll) {
  std::atomic<int> started{0};
  ShardWorkers workers(3, [&] { started.fetch_add(1); });
  EXPECT_EQ(workers.shards(), 3);
  for (int round = 0; round < 50; ++round) {
    absl::Mutex mu;
    std::vector<int> calls(3, 0);
    std::set<std::thread::id> threads;
    std::atomic<int> finished{0};
    workers.Run([&](int shard) {
      // Every shard waits until all three have begun: they must run at once.
      {
        absl::MutexLock lock(&mu);
        ++calls[shard];
        threads.insert(std::this_thread::get_id());
        auto all_begun = [&]() { return threads.size() == 3; };
        mu.Await(absl::Condition(&all_begun));
      }
      finished.fetch_add(1);
    });
    // Run returned: every call has returned.
    EXPECT_EQ(finished.load(), 3);
    EXPECT_EQ(calls, std::vector<int>({1, 1, 1}));
    EXPECT_TRUE(threads.contains(std::this_thread::get_id())) << "shard 0 runs on the caller's thread";
  }
  EXPECT_EQ(started.load(), 2) << "one start-up per extra thread";
}

TEST(ShardWorkersTest, OneShardRunsOnTheCallerWithoutThreads) {
  ShardWorkers workers(0);
  EXPECT_EQ(workers.shards(), 1);
  std::thread::id ran_on;
  int calls = 0;
  workers.Run([&](int shard) {
    EXPECT_EQ(shard, 0);
    ++calls;
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace inbeeld::signaling

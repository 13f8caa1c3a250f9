#pragma once
// Runs one function per shard at once and waits for all of them: shard 0 on
// the caller's thread, every other shard on a thread of its own that lives as
// long as this object. The signaling loop applies a batch's jongeren this
// way on both cores; a batch closes every few tens of milliseconds, so the
// threads are kept rather than started per batch.
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace inbeeld::signaling {

class ShardWorkers {
 public:
  // `shards` below 1 counts as 1 (no extra thread). `on_thread_start` runs
  // once on each extra thread before its first shard.
  explicit ShardWorkers(int shards, std::function<void()> on_thread_start = {});
  ~ShardWorkers();  // stops and joins the threads
  ShardWorkers(const ShardWorkers&) = delete;
  ShardWorkers& operator=(const ShardWorkers&) = delete;

  int shards() const { return static_cast<int>(threads_.size()) + 1; }
  // Calls fn(s) once for every s in [0, shards()), each on its own thread, and
  // returns when every call has returned. One Run at a time (the loop's thread).
  void Run(absl::FunctionRef<void(int shard)> fn);

 private:
  void Work(int shard, const std::function<void()>& on_thread_start);

  absl::Mutex mu_;
  const absl::FunctionRef<void(int)>* job_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // one more per Run
  int running_ ABSL_GUARDED_BY(mu_) = 0;           // extra threads still in the current Run
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace inbeeld::signaling

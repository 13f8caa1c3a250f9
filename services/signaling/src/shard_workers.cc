#include "inbeeld/signaling/shard_workers.h"

namespace inbeeld::signaling {

ShardWorkers::ShardWorkers(int shards, std::function<void()> on_thread_start) {
  for (int s = 1; s < shards; ++s) {
    threads_.emplace_back([this, s, on_thread_start] { Work(s, on_thread_start); });
  }
}

ShardWorkers::~ShardWorkers() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void ShardWorkers::Run(absl::FunctionRef<void(int shard)> fn) {
  if (threads_.empty()) {
    fn(0);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    job_ = &fn;
    running_ = static_cast<int>(threads_.size());
    ++generation_;
  }
  fn(0);
  absl::MutexLock lock(&mu_);
  auto all_returned = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ == 0; };
  mu_.Await(absl::Condition(&all_returned));
  job_ = nullptr;
}

void ShardWorkers::Work(int shard, const std::function<void()>& on_thread_start) {
  if (on_thread_start) on_thread_start();
  uint64_t done = 0;  // the last generation this thread ran
  while (true) {
    const absl::FunctionRef<void(int)>* job;
    {
      absl::MutexLock lock(&mu_);
      auto called = [this, &done]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || generation_ != done; };
      mu_.Await(absl::Condition(&called));
      if (stop_) return;
      done = generation_;
      job = job_;
    }
    // Run waits for this call before job_ goes out of scope.
    (*job)(shard);
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace inbeeld::signaling

#pragma once
// An in-memory inbeeld.aflevering.v1 for delivery's unit tests: records can
// be appended while readers (ReaderSource) read it from any cursor, like
// AfleveringReader on Kafka (partitions read round robin, a cursor's
// partition begins `lookback` offsets early, nullopt at the end).
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "inbeeld/delivery/aflevering_reader.h"
#include "inbeeld/kafka/topics.h"
#include "inbeeld/v1/signaal.pb.h"

namespace inbeeld::delivery::testing {

inline kafka::InRecord Record(int32_t partition, int64_t offset, const std::string& organisatie,
                              const std::string& id) {
  v1::Signaal signaal;
  signaal.set_signaal_id(id);
  signaal.set_organisatie(organisatie);
  kafka::InRecord r;
  r.topic = std::string(kafka::kTopicAflevering);
  r.partition = partition;
  r.offset = offset;
  r.key = organisatie;
  r.value = signaal.SerializeAsString();
  r.timestamp_ms = 1'700'000'000'000;
  r.headers.push_back({std::string(kafka::kHeaderIngestTime), "2024-03-01T10:00:00.5Z"});
  return r;
}

class FakeLog {
 public:
  explicit FakeLog(int32_t partitions) : partitions_(partitions) {}

  // Appends a signal for `organisatie` to `partition`; returns its offset.
  int64_t Append(int32_t partition, const std::string& organisatie, const std::string& id) {
    absl::MutexLock lock(&mu_);
    const int64_t offset = static_cast<int64_t>(log_[partition].size());
    log_[partition].push_back(Record(partition, offset, organisatie, id));
    return offset;
  }
  void AppendRaw(kafka::InRecord record) {
    absl::MutexLock lock(&mu_);
    record.offset = static_cast<int64_t>(log_[record.partition].size());
    log_[record.partition].push_back(std::move(record));
  }

  // From now on every reader's Poll returns `status`.
  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(status);
  }

  int opened() const { return opened_.load(); }

  ReaderSource Source() {
    ReaderSource source;
    source.open = [this](const Cursor& start, int64_t lookback)
        -> absl::StatusOr<std::unique_ptr<AfleveringReader>> {
      ++opened_;
      std::vector<int64_t> next(partitions_, 0);
      absl::MutexLock lock(&mu_);
      for (const auto& [p, o] : start.next_offsets) {
        if (o > static_cast<int64_t>(log_[p].size())) {
          return absl::OutOfRangeError("the cursor is past the end; the earliest valid cursor is \"\"");
        }
        next[p] = std::max<int64_t>(0, o - lookback);
      }
      return std::unique_ptr<AfleveringReader>(new Reader(this, std::move(next)));
    };
    source.end = [this]() -> absl::StatusOr<Cursor> {
      absl::MutexLock lock(&mu_);
      Cursor end;
      for (int32_t p = 0; p < partitions_; ++p) {
        end.next_offsets[p] = static_cast<int64_t>(log_[p].size());
      }
      return end;
    };
    return source;
  }

 private:
  class Reader final : public AfleveringReader {
   public:
    Reader(FakeLog* log, std::vector<int64_t> next) : log_(log), next_(std::move(next)) {}
    absl::StatusOr<std::optional<kafka::InRecord>> Poll(absl::Duration timeout) override {
      {
        absl::MutexLock lock(&log_->mu_);
        if (!log_->failure_.ok()) return log_->failure_;
        for (int32_t i = 0; i < log_->partitions_; ++i) {
          const int32_t p = (turn_ + i) % log_->partitions_;
          const std::vector<kafka::InRecord>& records = log_->log_[p];
          if (next_[p] < static_cast<int64_t>(records.size())) {
            turn_ = p + 1;
            return std::optional<kafka::InRecord>(records[next_[p]++]);
          }
        }
      }
      absl::SleepFor(std::min(timeout, absl::Milliseconds(1)));
      return std::optional<kafka::InRecord>();
    }
    int32_t partition_count() const override { return log_->partitions_; }

   private:
    FakeLog* log_;
    std::vector<int64_t> next_;
    int32_t turn_ = 0;
  };

  const int32_t partitions_;
  absl::Mutex mu_;
  std::map<int32_t, std::vector<kafka::InRecord>> log_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> opened_{0};
};

}  // namespace inbeeld::delivery::testing

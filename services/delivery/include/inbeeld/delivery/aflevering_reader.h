#pragma once
// An assign-only Kafka reader of inbeeld.aflevering.v1 for one subscription:
// no consumer group (subscribers come and go, and each has its own position:
// the cursor), no commits. common/kafka's Consumer is a group consumer, so
// this is the one place in delivery that knows librdkafka.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inbeeld/delivery/cursor.h"
#include "inbeeld/kafka/kafka.h"

namespace inbeeld::delivery {

class AfleveringReader {
 public:
  virtual ~AfleveringReader() = default;

  // Assigns every partition of `topic`, each at the cursor's next offset or
  // at the beginning when the cursor does not name it; a named partition
  // starts `lookback` offsets earlier (never before the earliest retained),
  // so that the caller can see which signals came just before the cursor
  // (RepeatWindow). A cursor offset no longer retained, or past the end, is
  // OUT_OF_RANGE with the earliest valid cursor. UNAVAILABLE when the
  // topic's metadata cannot be fetched within `metadata_timeout` (for
  // example: the topic does not exist yet).
  static absl::StatusOr<std::unique_ptr<AfleveringReader>> Open(
      const kafka::ClientOptions& options, const std::string& topic, const Cursor& start,
      absl::Duration metadata_timeout, int64_t lookback = 0);

  // The next offset to be written in every partition of `topic` (the high
  // watermarks): where the shared reader starts.
  static absl::StatusOr<Cursor> EndOffsets(const kafka::ClientOptions& options,
                                           const std::string& topic,
                                           absl::Duration metadata_timeout);

  // The next record; nullopt when none arrived within `timeout` (caught up).
  // Transient broker errors are logged and read as nullopt; errors that end
  // the subscription (fatal, topic gone) are returned.
  virtual absl::StatusOr<std::optional<kafka::InRecord>> Poll(absl::Duration timeout) = 0;

  virtual int32_t partition_count() const = 0;
};

// Where delivery's readers come from: Kafka in production, fakes in tests.
struct ReaderSource {
  using Open = std::function<absl::StatusOr<std::unique_ptr<AfleveringReader>>(
      const Cursor& start, int64_t lookback)>;
  // AfleveringReader::Open(start, lookback).
  Open open;
  // AfleveringReader::EndOffsets.
  std::function<absl::StatusOr<Cursor>()> end;

  static ReaderSource Kafka(const kafka::ClientOptions& options, const std::string& topic,
                            absl::Duration metadata_timeout);
};

}  // namespace inbeeld::delivery

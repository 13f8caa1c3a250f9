#pragma once
// librdkafka's built-in mock cluster, reachable over TCP on 127.0.0.1 (random
// ports) by other processes. Measured limits of Debian's librdkafka 2.0.2 mock
// are in docs/ARCHITECTURE.md. A partition keeps only ~5 MiB or 100 000
// batches (kMockRetainedBytes, kafka/backlog.h): ingest holds back before that
// and consumers stop at a gap rather than skip.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "inbeeld/kafka/kafka.h"

namespace inbeeld::kafka {

class EmbeddedCluster {
 public:
  virtual ~EmbeddedCluster() = default;
  static absl::StatusOr<std::unique_ptr<EmbeddedCluster>> Start(int brokers = 1);
  // "127.0.0.1:port,..."
  virtual std::string bootstrap_servers() const = 0;
  virtual absl::Status CreateTopics(const std::vector<TopicSpec>& topics) = 0;
  // Fault tests: the next `count` produce requests (any client) fail with NOT_ENOUGH_REPLICAS, as when a broker
  // of the partition's ISR is lost; producers retry them until message.timeout.ms.
  virtual void FailProduceRequests(int count) = 0;
};

}  // namespace inbeeld::kafka

#pragma once
// One inbeeld-signaling process as the crash test drives it: started on a
// fixed state dir, consumer group and date file, killed with SIGKILL and
// restarted on the same state dir. Progress is observed only through the
// service's public surfaces: LeerplichtService.Status (which reads the
// committed RocksDB state) and the Prometheus endpoint.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "child_process.h"
#include "inbeeld/v1/common.pb.h"
#include "inbeeld/v1/leerplicht_service.grpc.pb.h"

namespace inbeeld::crash {

struct ServiceConfig {
  std::string name;        // consumer group, file prefix
  std::string bootstrap;   // embedded cluster
  std::string work_dir;    // state dir, date file, ready files and logs go here
  std::string pseudonym_secret;
  std::string kafka_config;  // --kafka-config (librdkafka overrides)
  std::vector<std::string> extra_args = {};  // more flags for inbeeld-signaling
};

class SignalingUnderTest {
 public:
  explicit SignalingUnderTest(ServiceConfig config);
  ~SignalingUnderTest();

  // Starts the process and waits for its ready file.
  absl::Status Start();
  // SIGKILL, no chance to flush or commit anything.
  absl::Status Kill();
  // SIGTERM and wait for the exit.
  absl::Status Stop();
  bool Running();
  // Removes the state dir of a stopped process (a replacement instance).
  absl::Status WipeState();

  // Moves "today" (atomically: the service re-reads the file every tick).
  absl::Status SetToday(absl::CivilDay day);

  // Waits until every leerling in `markers` is in the committed state
  // (Status answers OK instead of NOT_FOUND). Fails early when the process
  // died on its own.
  absl::Status WaitCommitted(const std::vector<v1::Leerling>& markers, absl::Duration timeout);
  // Waits until a whole timer tick started after `after` has completed
  // (inbeeld_signaling_last_tick_timestamp_seconds moved twice past it), on
  // a process that has its partitions.
  absl::Status WaitForTickAfter(absl::Time after, absl::Duration timeout);

  // The value of an unlabelled metric, or the sum of a labelled family.
  absl::StatusOr<double> Metric(const std::string& name);

  int starts() const { return starts_; }
  std::string LogTail() const;
  // The service's own metrics (batches, lag per partition, queues): what a
  // failure message needs to say where the service stood.
  std::string Figures();

 private:
  absl::StatusOr<std::string> Scrape();

  ServiceConfig config_;
  std::string state_dir_;
  std::string date_file_;
  int starts_ = 0;
  std::unique_ptr<testing_util::ChildProcess> process_;
  std::string log_prefix_;
  std::string metrics_address_;
  std::unique_ptr<v1::LeerplichtService::Stub> status_;
};

}  // namespace inbeeld::crash

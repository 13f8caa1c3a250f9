// The command-line parser every binary uses (common/util/config) and the
// --kafka-config list: the input is argv, arguments separated by NUL bytes.
// Parsing and reading any flag as any type must never crash.
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/util/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  static const std::set<std::string> kKnown = {"kafka",      "kafka-config", "batch-size",
                                              "plaintext",  "reload-interval", "until",
                                              "log-level",  "partitions",   "demo"};
  const std::vector<std::string> args = fuzz::Split(fuzz::AsView(data, size), '\0');
  absl::StatusOr<util::Config> config = util::Config::Parse(args, kKnown);
  if (!config.ok()) return 0;
  for (const std::string& name : kKnown) {
    config->GetString(name, "").size();
    config->GetInt(name, 0).IgnoreError();
    config->GetBool(name, false).IgnoreError();
    config->GetDuration(name, absl::Seconds(1)).IgnoreError();
  }
  kafka::ParseKafkaConfig(config->GetString("kafka-config", "")).IgnoreError();
  return 0;
}

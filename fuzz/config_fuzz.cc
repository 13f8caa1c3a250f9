// The command line every binary parses (CLI11 through util::ParseFlags, with
// the shared ServiceFlags table and options of each kind: integer, duration,
// switch, positional) and the --kafka-config list: the input is argv,
// arguments separated by NUL bytes. Parsing must never crash or throw past
// ParseFlags: every outcome is "go on", help (0) or a usage error (2).
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "fuzz/fuzz_input.h"
#include "inbeeld/kafka/kafka_metrics.h"
#include "inbeeld/util/flags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  const std::vector<std::string> args = fuzz::Split(fuzz::AsView(data, size), '\0');
  CLI::App app("fuzzed", "config_fuzz");
  util::ServiceFlags flags;
  flags.Add(app, /*grpc=*/true);
  std::string file;
  std::string until;
  int64_t batch_size = 500;
  int64_t partitions = 3;
  bool demo = true;
  absl::Duration reload = absl::Seconds(5);
  app.add_option("FILE", file, "a positional argument");
  util::AddOption(app, "until", until, "a string");
  util::AddOption(app, "batch-size", batch_size, "an integer")->check(util::IntegerIn(1));
  util::AddOption(app, "partitions", partitions, "a ranged integer")->check(util::IntegerIn(1, 64));
  util::AddSwitch(app, "demo", demo, "a switch");
  util::AddDuration(app, "reload-interval", reload, "a duration");
  std::ostringstream out, err;
  const std::optional<int> exit = util::ParseFlags(app, args, out, err);
  if (exit.has_value() && *exit != 0 && *exit != 2) __builtin_trap();
  if (exit.has_value() && *exit == 2 && err.str().empty()) __builtin_trap();  // a usage error always says why
  if (!exit.has_value()) {
    flags.PseudonymSecretSet();
    kafka::ParseKafkaConfig(flags.kafka_config).IgnoreError();
  }
  return 0;
}

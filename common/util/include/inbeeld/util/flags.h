#pragma once
// Command-line flags for every InBeeld binary, on CLI11. One convention:
//   --name value  or  --name=value; a bare --switch means true, --switch=false
//   turns it off; INBEELD_NAME (upper case, '-' → '_') is used when the flag
//   is absent, so the command line beats the environment; -h/--help lists every
//   flag with its default and its environment variable.
// ParseFlags turns CLI11's outcome into the exit-code convention: help → 0,
// any usage error (unknown flag, stray argument, malformed value) → 2.
//
// Defining a flag: bind it to a variable that already holds the default.
//   util::AddOption(app, "buffer-size", options.buffer_size, "signals buffered per subscriber");
//   util::AddSwitch(app, "plaintext", tls.plaintext, "no TLS (local development only)");
//   util::AddDuration(app, "tick", options.tick, "how often the rules run");
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace inbeeld::util {

// "grpc-listen" → "INBEELD_GRPC_LISTEN".
std::string EnvName(std::string_view flag);

// --name bound to `value` (its current value is the default shown in --help).
template <typename T>
CLI::Option* AddOption(CLI::App& app, const std::string& name, T& value, const std::string& help) {
  return app.add_option("--" + name, value, help)->envname(EnvName(name))->capture_default_str();
}
// A boolean: bare --name is true; --name=true|false|1|0|yes|no.
CLI::Option* AddSwitch(CLI::App& app, const std::string& name, bool& value, const std::string& help);
// A check for an integer option: a whole number in [min, max], with a message
// that says so ("--batch-size abc" is "must be a whole number >= 1").
CLI::Validator IntegerIn(int64_t min, int64_t max = std::numeric_limits<int64_t>::max());
// A duration such as 500ms, 10s, 1h (absl::ParseDuration, not negative).
CLI::Option* AddDuration(CLI::App& app, const std::string& name, absl::Duration& value,
                         const std::string& help);

// gRPC TLS: server or client certificate, key and CA, or --plaintext.
struct TlsFlags {
  std::string cert;
  std::string key;
  std::string ca;
  bool plaintext = false;
  void Add(CLI::App& app);
  // True when all three files are given (the alternative to --plaintext).
  bool Complete() const { return !cert.empty() && !key.empty() && !ca.empty(); }
};

// Exit codes of every binary (docs/OPERATIONS.md "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;  // started, then failed (Kafka, the loop, a port in use)
inline constexpr int kExitUsage = 2;    // usage or configuration error, found before anything ran

// The directories of the image layout (docs/OPERATIONS.md "Files and directories").
inline constexpr char kDefaultConfigDir[] = "/etc/inbeeld";
inline constexpr char kDefaultDataDir[] = "/var/lib/inbeeld";

// `path` as given when absolute or empty, else below `dir`.
std::string ResolvePath(const std::string& dir, const std::string& path);

// What every service binary shares: Kafka, listeners, ready file, log level,
// pseudonym secret, the config and data directories.
struct ServiceFlags {
  std::string config_dir = kDefaultConfigDir;
  std::string data_dir = kDefaultDataDir;
  std::string kafka;
  std::string kafka_config;
  std::string grpc_listen = "127.0.0.1:50051";
  std::string metrics_listen = "127.0.0.1:9464";
  std::string health_listen;
  std::string ready_file;
  std::string log_level;
  std::string pseudonym_secret;
  TlsFlags tls;
  // Adds --kafka, --kafka-config, --metrics-listen, --ready-file, --log-level,
  // --pseudonym-secret, --config-dir, --data-dir; with `grpc` also
  // --grpc-listen, --health-listen and the TLS flags.
  void Add(CLI::App& app, bool grpc);
  // A file the service reads: relative to --config-dir unless absolute.
  std::string ConfigFile(const std::string& path) const { return ResolvePath(config_dir, path); }
  // After parsing: the TLS files resolved against --config-dir; with TLS
  // (not --plaintext) all three must be given and readable.
  absl::Status CheckTls();
  // The state directory of `service`: --state-dir when given (relative:
  // below --data-dir), else <data-dir>/<service>; created below an existing,
  // writable --data-dir (never the working directory). An error is a
  // configuration error (exit 2).
  absl::StatusOr<std::string> StateDir(const std::string& service, const std::string& state_dir) const;
  // Set on the command line or in the environment, even if empty (an unfilled
  // secret is a deployment mistake, never a request for the development secret).
  bool PseudonymSecretSet() const;

 private:
  CLI::Option* pseudonym_secret_option_ = nullptr;
};

// Parses argv (argv[0] is the program) or `args` (without the program name).
// nullopt: go on; otherwise the exit code (0 after --help printed on `out`, 2
// after a usage error with a hint printed on `err`).
std::optional<int> ParseFlags(CLI::App& app, int argc, const char* const* argv,
                              std::ostream& out, std::ostream& err);
// `echo_unexpected=false` keeps stray arguments out of the message (a
// command where one might be a BSN typed in the wrong place).
std::optional<int> ParseFlags(CLI::App& app, const std::vector<std::string>& args,
                              std::ostream& out, std::ostream& err, bool echo_unexpected = true);

}  // namespace inbeeld::util

#include "inbeeld/util/flags.h"

#include <algorithm>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace inbeeld::util {

std::string EnvName(std::string_view flag) {
  std::string env = absl::StrCat("INBEELD_", std::string(flag));
  absl::StrReplaceAll({{"-", "_"}}, &env);
  absl::AsciiStrToUpper(&env);
  return env;
}

CLI::Validator IntegerIn(int64_t min, int64_t max) {
  const std::string range = max == std::numeric_limits<int64_t>::max()
                                ? absl::StrCat(">= ", min)
                                : absl::StrCat("in ", min, "..", max);
  return CLI::Validator(
      [min, max, range](std::string& text) -> std::string {
        int64_t v;
        if (!absl::SimpleAtoi(text, &v) || v < min || v > max) {
          return absl::StrCat("must be a whole number ", range, ", not '", text, "'");
        }
        return "";
      },
      "", "");
}

CLI::Option* AddSwitch(CLI::App& app, const std::string& name, bool& value, const std::string& help) {
  // CLI11 shows no default for flags; the description carries it.
  return app.add_flag("--" + name, value, absl::StrCat(help, " [default: ", value ? "true" : "false", "]"))
      ->envname(EnvName(name));
}

CLI::Option* AddDuration(CLI::App& app, const std::string& name, absl::Duration& value,
                         const std::string& help) {
  const std::string shown =
      value == absl::InfiniteDuration() ? std::string("none") : absl::FormatDuration(value);
  return app
      .add_option_function<std::string>(
          "--" + name, [&value](const std::string& text) { absl::ParseDuration(text, &value); }, help)
      ->check(
          [](const std::string& text) -> std::string {
            absl::Duration d;
            if (!absl::ParseDuration(text, &d) || d < absl::ZeroDuration()) {
              return "must be a duration such as 500ms, 10s or 1h";
            }
            return "";
          },
          "")
      ->type_name("DURATION")
      ->default_str(shown)
      ->envname(EnvName(name));
}

void TlsFlags::Add(CLI::App& app) {
  AddOption(app, "tls-cert", cert, "certificate (PEM)");
  AddOption(app, "tls-key", key, "private key (PEM)");
  AddOption(app, "tls-ca", ca, "CA that signs the peers' certificates (PEM)");
  AddSwitch(app, "plaintext", plaintext, "gRPC without TLS: local development only");
}

std::string ResolvePath(const std::string& dir, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return (std::filesystem::path(dir) / path).string();
}

void ServiceFlags::Add(CLI::App& app, bool grpc) {
  AddOption(app, "config-dir", config_dir, "directory of the files the service reads; relative file flags are below it");
  AddOption(app, "data-dir", data_dir, "state of signaling and routing goes to <data-dir>/<service> (must exist)");
  AddOption(app, "kafka", kafka, "Kafka bootstrap servers (host:port,...)");
  AddOption(app, "kafka-config", kafka_config, "extra librdkafka settings, key=value,key=value");
  AddOption(app, "metrics-listen", metrics_listen, "Prometheus /metrics address (port 0: any)");
  AddOption(app, "ready-file", ready_file, "write the bound addresses as JSON here once ready");
  AddOption(app, "log-level", log_level, "debug, info, warn or error");
  pseudonym_secret_option_ = AddOption(app, "pseudonym-secret", pseudonym_secret,
                                       "secret for the identity pseudonyms (16+ bytes; from the secret store)")
                                 // An empty value must reach the set-but-empty check, not a parse error.
                                 ->expected(0, 1);
  if (grpc) {
    AddOption(app, "grpc-listen", grpc_listen, "gRPC address (port 0: any)");
    AddOption(app, "health-listen", health_listen, "separate plaintext gRPC health address (empty: none)");
    tls.Add(app);
  }
}

absl::Status ServiceFlags::CheckTls() {
  tls.cert = ConfigFile(tls.cert);
  tls.key = ConfigFile(tls.key);
  tls.ca = ConfigFile(tls.ca);
  if (tls.plaintext) return absl::OkStatus();
  if (!tls.Complete()) {
    return absl::InvalidArgumentError(
        "--tls-cert, --tls-key and --tls-ca are required (or --plaintext for local development)");
  }
  for (const std::string* file : {&tls.cert, &tls.key, &tls.ca}) {
    if (access(file->c_str(), R_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("cannot read TLS file ", *file));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ServiceFlags::StateDir(const std::string& service, const std::string& state_dir) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (state_dir.empty() || state_dir.front() != '/') {
    // Below the data directory, which the deployment provides (a volume).
    if (!fs::is_directory(data_dir, ec) || access(data_dir.c_str(), W_OK) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--data-dir ", data_dir, " (INBEELD_DATA_DIR) is not a writable directory; give an existing one, or --state-dir"));
    }
  }
  const std::string dir = state_dir.empty() ? ResolvePath(data_dir, service) : ResolvePath(data_dir, state_dir);
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir) || access(dir.c_str(), W_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("state directory ", dir, " cannot be created or written",
                                                   ec ? absl::StrCat(": ", ec.message()) : ""));
  }
  return dir;
}

bool ServiceFlags::PseudonymSecretSet() const {
  // CLI11 ignores an empty environment variable; a set-but-empty one still counts.
  return (pseudonym_secret_option_ != nullptr && pseudonym_secret_option_->count() > 0) ||
         std::getenv(EnvName("pseudonym-secret").c_str()) != nullptr;
}

std::optional<int> ParseFlags(CLI::App& app, int argc, const char* const* argv, std::ostream& out,
                              std::ostream& err) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return ParseFlags(app, args, out, err);
}

std::optional<int> ParseFlags(CLI::App& app, const std::vector<std::string>& args, std::ostream& out,
                              std::ostream& err, bool echo_unexpected) {
  // CLI11 consumes the vector from the back.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ExtrasError& e) {
    err << app.get_name() << ": " << (echo_unexpected ? e.what() : "unexpected argument or unknown flag")
        << "\nRun '" << app.get_name() << " --help' for the flags.\n";
    return 2;
  } catch (const CLI::ParseError& e) {
    err << app.get_name() << ": " << e.what() << "\nRun '" << app.get_name()
        << " --help' for the flags.\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace inbeeld::util

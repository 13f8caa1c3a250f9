#include "inbeeld/util/config.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace inbeeld::util {
namespace {

std::string EnvName(std::string_view flag) {
  std::string env = absl::StrCat("INBEELD_", std::string(flag));
  absl::StrReplaceAll({{"-", "_"}}, &env);
  absl::AsciiStrToUpper(&env);
  return env;
}

}  // namespace

absl::StatusOr<Config> Config::Parse(int argc, const char* const* argv,
                                     const std::set<std::string>& known) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return Parse(args, known);
}

absl::StatusOr<Config> Config::Parse(const std::vector<std::string>& args,
                                     const std::set<std::string>& known) {
  Config config;
  // Environment first; the command line overrides.
  for (const auto& name : known) {
    if (const char* v = std::getenv(EnvName(name).c_str()); v != nullptr) {
      config.values_[name] = v;
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      config.positional_.push_back(arg);
      continue;
    }
    std::string body = arg.substr(2);
    std::string name = body, value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (!known.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    // A bare "--flag" is a boolean switch; values always use "--flag=value",
    // so a positional argument is never mistaken for a flag's value.
    if (!has_value) value = "true";
    config.values_[name] = value;
  }
  return config;
}

bool Config::Has(std::string_view name) const { return values_.find(name) != values_.end(); }

std::string Config::GetString(std::string_view name, std::string_view fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string(fallback) : it->second;
}

absl::StatusOr<int64_t> Config::GetInt(std::string_view name, int64_t fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t v;
  if (!absl::SimpleAtoi(it->second, &v)) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), " must be an integer"));
  }
  return v;
}

absl::StatusOr<bool> Config::GetBool(std::string_view name, bool fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  bool v;
  if (!absl::SimpleAtob(it->second, &v)) {
    return absl::InvalidArgumentError(absl::StrCat("--", std::string(name), " must be true or false"));
  }
  return v;
}

absl::StatusOr<absl::Duration> Config::GetDuration(std::string_view name,
                                                   absl::Duration fallback) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  absl::Duration d;
  if (!absl::ParseDuration(it->second, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", std::string(name), " must be a duration such as 500ms, 10s or 1h"));
  }
  return d;
}

}  // namespace inbeeld::util

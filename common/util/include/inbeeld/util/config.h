#pragma once
// Flags and environment: --name=value (or bare --name for true) on the command line,
// INBEELD_NAME (upper case, '-' → '_') in the environment; the command line
// wins. Unknown flags are an error, so a typo never silently falls back to a
// default.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace inbeeld::util {

class Config {
 public:
  // Parses argv (argv[0] skipped). Positional arguments are kept in order.
  // `known` lists every accepted flag name (without "--"); a bare flag
  // means true ("--plaintext" == "--plaintext=true").
  static absl::StatusOr<Config> Parse(int argc, const char* const* argv,
                                      const std::set<std::string>& known);
  static absl::StatusOr<Config> Parse(const std::vector<std::string>& args,
                                      const std::set<std::string>& known);

  std::string GetString(std::string_view name, std::string_view fallback) const;
  absl::StatusOr<int64_t> GetInt(std::string_view name, int64_t fallback) const;
  absl::StatusOr<bool> GetBool(std::string_view name, bool fallback) const;
  // Durations as "500ms", "10s", "1h".
  absl::StatusOr<absl::Duration> GetDuration(std::string_view name,
                                             absl::Duration fallback) const;
  bool Has(std::string_view name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::string> positional_;
};

}  // namespace inbeeld::util

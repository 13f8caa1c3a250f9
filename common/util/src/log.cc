#include "inbeeld/util/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace inbeeld::util {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
// Set once at start-up, before other threads exist.
std::string* g_service = new std::string("inbeeld");

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace

bool SetLogLevel(std::string_view level) {
  const std::string l = absl::AsciiStrToLower(std::string(level));
  if (l == "debug") g_level = 0;
  else if (l == "info") g_level = 1;
  else if (l == "warn" || l == "warning") g_level = 2;
  else if (l == "error") g_level = 3;
  else return false;
  return true;
}

void InitLogging(std::string_view service, std::string_view level) {
  *g_service = std::string(service);
  std::string lvl(level);
  if (lvl.empty()) {
    if (const char* env = std::getenv("INBEELD_LOG_LEVEL")) lvl = env;
  }
  if (!lvl.empty() && !SetLogLevel(lvl)) {
    Log(LogLevel::kWarn, "unknown log level, using info", {{"level", lvl}});
  }
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line = absl::StrCat(
      "{\"time\":\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      "\",\"level\":\"", LevelName(level), "\",\"service\":\"", JsonEscape(*g_service),
      "\",\"msg\":\"", JsonEscape(msg), "\"");
  for (const auto& [k, v] : fields) {
    absl::StrAppend(&line, ",\"", JsonEscape(k), "\":\"", JsonEscape(v), "\"");
  }
  line += "}\n";
  // One write per line so concurrent lines never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace inbeeld::util

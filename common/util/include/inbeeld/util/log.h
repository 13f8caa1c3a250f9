#pragma once
// Structured logging: one JSON object per line on stderr with time, level,
// service, msg and optional fields. Never pass personal data (BSN,
// onderwijsnummer, names, addresses): use the pseudonym or the ce_id.
// Level: INBEELD_LOG_LEVEL=debug|info|warn|error (default info) or --log-level.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace inbeeld::util {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using LogField = std::pair<std::string_view, std::string>;

// Sets the service name and level for this process (thread-safe to call once at
// start-up before threads exist). Reads INBEELD_LOG_LEVEL if level is empty.
void InitLogging(std::string_view service, std::string_view level = "");
bool SetLogLevel(std::string_view level);  // false on an unknown name

void Log(LogLevel level, std::string_view msg,
         std::initializer_list<LogField> fields = {});

// Whether a line of this level is written. Log() checks it too, but only after
// the caller has built its fields: a per-event debug line guards with this.
bool LogEnabled(LogLevel level);

inline void LogDebug(std::string_view m, std::initializer_list<LogField> f = {}) { Log(LogLevel::kDebug, m, f); }
inline void LogInfo(std::string_view m, std::initializer_list<LogField> f = {}) { Log(LogLevel::kInfo, m, f); }
inline void LogWarn(std::string_view m, std::initializer_list<LogField> f = {}) { Log(LogLevel::kWarn, m, f); }
inline void LogError(std::string_view m, std::initializer_list<LogField> f = {}) { Log(LogLevel::kError, m, f); }

// JSON string escaping (exposed for tests and other JSON writers).
std::string JsonEscape(std::string_view s);

}  // namespace inbeeld::util

#pragma once
// A small RFC 4180 CSV reader for the routing tables: quoted fields may hold
// commas, doubled quotes and line breaks ("Nuenen, Gerwen en Nederwetten").
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace inbeeld::routing {

struct CsvRecord {
  // 1-based line on which the record starts, for error messages.
  int line = 0;
  std::vector<std::string> fields;
};

// Parses `text` into records. Accepts LF and CRLF line ends, a UTF-8 byte
// order mark and a missing final line end; skips empty lines. Errors
// (INVALID_ARGUMENT) name `source` and the line: "<source>:<line>: ...".
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text,
                                                std::string_view source = "csv");

}  // namespace inbeeld::routing

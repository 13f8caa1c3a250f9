#pragma once
// Helpers shared by the fuzz targets: split one libFuzzer input into the
// parts a parser takes, deterministically (the same bytes, the same parts).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/stubs/logging.h"

namespace inbeeld::fuzz {

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at every `separator`; "a\0b" → {"a", "b"}. Keeps empty parts.
inline std::vector<std::string> Split(std::string_view input, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t at = input.find(separator, start);
    if (at == std::string_view::npos) {
      parts.emplace_back(input.substr(start));
      return parts;
    }
    parts.emplace_back(input.substr(start, at - start));
    start = at + 1;
  }
}

// Protobuf logs every string field with invalid UTF-8 at ERROR: millions of
// lines that slow the fuzzer down and say nothing (parsing fails cleanly).
inline void QuietProtobufLogs() { google::protobuf::SetLogHandler(nullptr); }

}  // namespace inbeeld::fuzz

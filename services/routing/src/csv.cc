#include "inbeeld/routing/csv.h"

#include "absl/strings/str_cat.h"

namespace inbeeld::routing {
namespace {

// Debian's Abseil has its own string_view type.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

absl::Status Error(std::string_view source, int line, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(A(source), ":", line, ": ", A(what)));
}

}  // namespace

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(std::string_view text, std::string_view source) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());

  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  int line = 1;
  record.line = 1;
  bool in_quotes = false;
  bool after_quote = false;   // just closed a quoted field: only , or EOL may follow
  bool field_started = false;  // something (even "") was read for this record

  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    after_quote = false;
  };
  auto end_record = [&] {
    // A line with nothing on it is skipped, not a record with one empty field.
    if (field_started || !record.fields.empty()) {
      end_field();
      records.push_back(std::move(record));
    }
    record = CsvRecord{};
    field.clear();
    field_started = false;
    after_quote = false;
  };

  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
          after_quote = true;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    if (c == '\n') {
      end_record();
      ++line;
      record.line = line;
      continue;
    }
    if (c == ',') {
      end_field();
      field_started = true;
      continue;
    }
    if (after_quote) {
      return Error(source, line, "unexpected character after a closing quote");
    }
    if (c == '"') {
      if (!field.empty()) {
        return Error(source, line, "quote inside an unquoted field");
      }
      in_quotes = true;
      field_started = true;
      continue;
    }
    field.push_back(c);
    field_started = true;
  }
  if (in_quotes) {
    return Error(source, record.line, "unterminated quoted field");
  }
  end_record();
  return records;
}

}  // namespace inbeeld::routing

#include "inbeeld/routing/organisatie_tabel.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "inbeeld/routing/csv.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::routing {
namespace {

constexpr size_t kMaxOrganisatieIdLength = 64;

// Debian's Abseil has its own string_view type.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

absl::Status LineError(std::string_view source, int line, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(A(source), ":", line, ": ", A(what)));
}

bool IsDigits(std::string_view s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(static_cast<unsigned char>(c));
         });
}

// Organisation ids are Kafka keys and metric label values: keep them plain.
bool IsValidOrganisatieId(std::string_view id) {
  if (id.empty() || id.size() > kMaxOrganisatieIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// Maps required column names to their index in the header record.
class Columns {
 public:
  static absl::StatusOr<Columns> FromHeader(const std::vector<CsvRecord>& records,
                                            const std::vector<std::string_view>& required,
                                            std::string_view source) {
    if (records.empty()) return LineError(source, 1, "missing header line");
    const CsvRecord& header = records.front();
    Columns columns;
    columns.width_ = header.fields.size();
    for (size_t i = 0; i < header.fields.size(); ++i) {
      const std::string name(absl::StripAsciiWhitespace(header.fields[i]));
      if (!columns.index_.emplace(name, i).second) {
        return LineError(source, header.line, absl::StrCat("duplicate column \"", name, "\""));
      }
    }
    for (std::string_view name : required) {
      if (columns.index_.find(name) == columns.index_.end()) {
        return LineError(source, header.line, absl::StrCat("missing column \"", A(name), "\""));
      }
    }
    return columns;
  }
  size_t width() const { return width_; }
  std::string Get(const CsvRecord& record, std::string_view name) const {
    return std::string(absl::StripAsciiWhitespace(record.fields[index_.find(name)->second]));
  }

 private:
  std::map<std::string, size_t, std::less<>> index_;
  size_t width_ = 0;
};

absl::StatusOr<std::optional<absl::CivilDay>> OptionalDate(std::string_view text,
                                                           std::string_view column,
                                                           std::string_view source, int line) {
  if (text.empty()) return std::optional<absl::CivilDay>();
  absl::StatusOr<absl::CivilDay> day = util::ParseDate(text);
  if (!day.ok()) {
    return LineError(source, line,
                     absl::StrCat(A(column), " \"", A(text), "\" is not a date (YYYY-MM-DD)"));
  }
  return std::optional<absl::CivilDay>(*day);
}

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": no such file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat(path.string(), ": cannot open"));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat(path.string(), ": read error"));
  return std::move(out).str();
}

absl::StatusOr<std::vector<Herindeling>> ParseHerindelingen(std::string_view text,
                                                            std::string_view source) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text, source);
  if (!records.ok()) return records.status();
  absl::StatusOr<Columns> columns = Columns::FromHeader(
      *records, {"ingangsdatum", "oude_gemeentecode", "nieuwe_gemeentecode"}, source);
  if (!columns.ok()) return columns.status();

  std::vector<Herindeling> rows;
  // Old code → (date, line) of its first row: a gemeente ceases on one date.
  std::map<std::string, std::pair<absl::CivilDay, int>> ceased;
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& rec = (*records)[r];
    if (rec.fields.size() != columns->width()) {
      return LineError(source, rec.line,
                       absl::StrCat("expected ", columns->width(), " fields, found ",
                                    rec.fields.size()));
    }
    Herindeling h;
    h.line = rec.line;
    const std::string datum = columns->Get(rec, "ingangsdatum");
    absl::StatusOr<absl::CivilDay> day = util::ParseDate(datum);
    if (!day.ok()) {
      return LineError(source, rec.line,
                       absl::StrCat("ingangsdatum \"", datum, "\" is not a date (YYYY-MM-DD)"));
    }
    h.ingangsdatum = *day;
    h.oud = columns->Get(rec, "oude_gemeentecode");
    h.nieuw = columns->Get(rec, "nieuwe_gemeentecode");
    for (const auto& [column, code] :
         {std::pair<std::string_view, const std::string&>{"oude_gemeentecode", h.oud},
          {"nieuwe_gemeentecode", h.nieuw}}) {
      if (!IsDigits(code, 4)) {
        return LineError(source, rec.line,
                         absl::StrCat(A(column), " \"", code, "\" is not 4 digits"));
      }
      if (IsBijzondereGemeentecode(code)) {
        return LineError(source, rec.line,
                         absl::StrCat(A(column), " ", code, " is a special code, not a gemeente"));
      }
    }
    if (h.oud == h.nieuw) {
      return LineError(source, rec.line, absl::StrCat("gemeente ", h.oud, " merges into itself"));
    }
    if (!seen.emplace(h.oud, h.nieuw).second) {
      return LineError(source, rec.line,
                       absl::StrCat("duplicate herindeling ", h.oud, " -> ", h.nieuw));
    }
    auto [it, inserted] = ceased.emplace(h.oud, std::make_pair(h.ingangsdatum, h.line));
    if (!inserted && it->second.first != h.ingangsdatum) {
      return LineError(source, rec.line,
                       absl::StrCat("gemeente ", h.oud, " already ceased on ",
                                    util::FormatDate(it->second.first), " (line ",
                                    it->second.second, ")"));
    }
    rows.push_back(std::move(h));
  }
  return rows;
}

}  // namespace

bool IsBijzondereGemeentecode(std::string_view code) {
  return code == "0000" || code == "0998" || code == "1999";
}

absl::StatusOr<OrganisatieTabel> OrganisatieTabel::Load(
    const std::filesystem::path& organisaties, const std::filesystem::path& herindelingen) {
  absl::StatusOr<std::string> org = ReadFile(organisaties);
  if (!org.ok()) return org.status();
  absl::StatusOr<std::string> her = ReadFile(herindelingen);
  if (!her.ok()) return her.status();
  return Parse(*org, *her, organisaties.string(), herindelingen.string());
}

absl::StatusOr<OrganisatieTabel> OrganisatieTabel::Parse(std::string_view organisaties_csv,
                                                         std::string_view herindelingen_csv,
                                                         std::string_view organisaties_name,
                                                         std::string_view herindelingen_name) {
  OrganisatieTabel tabel;

  // Herindelingen first: an organisation row for a code that no longer exists
  // could never be reached, so it is an error in the table.
  absl::StatusOr<std::vector<Herindeling>> herindelingen =
      ParseHerindelingen(herindelingen_csv, herindelingen_name);
  if (!herindelingen.ok()) return herindelingen.status();
  tabel.herindelingen_ = std::move(*herindelingen);

  std::map<std::string, std::vector<const Herindeling*>> direct;
  for (const Herindeling& h : tabel.herindelingen_) direct[h.oud].push_back(&h);

  // Resolve every old code to today's gemeenten (depth-first, with cycle check).
  enum class Mark { kVisiting, kDone };
  std::map<std::string, Mark> marks;
  std::function<absl::Status(const std::string&)> resolve =
      [&](const std::string& code) -> absl::Status {
    auto it = direct.find(code);
    if (it == direct.end()) return absl::OkStatus();  // a current gemeente
    auto mark = marks.find(code);
    if (mark != marks.end()) {
      if (mark->second == Mark::kDone) return absl::OkStatus();
      return LineError(herindelingen_name, it->second.front()->line,
                       absl::StrCat("herindelingen form a cycle through ", code));
    }
    marks[code] = Mark::kVisiting;
    std::set<std::string> result;
    for (const Herindeling* h : it->second) {
      if (absl::Status s = resolve(h->nieuw); !s.ok()) return s;
      auto next = tabel.opvolgers_.find(h->nieuw);
      if (next == tabel.opvolgers_.end()) {
        result.insert(h->nieuw);
      } else {
        result.insert(next->second.begin(), next->second.end());
      }
    }
    tabel.opvolgers_[code] = std::vector<std::string>(result.begin(), result.end());
    marks[code] = Mark::kDone;
    return absl::OkStatus();
  };
  for (const auto& [code, rows] : direct) {
    if (absl::Status s = resolve(code); !s.ok()) return s;
  }

  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(organisaties_csv, organisaties_name);
  if (!records.ok()) return records.status();
  absl::StatusOr<Columns> columns = Columns::FromHeader(
      *records,
      {"gemeentecode", "organisatie_id", "organisatie_naam", "oin", "geldig_van", "geldig_tot",
       "achttien_plus_organisatie_id"},
      organisaties_name);
  if (!columns.ok()) return columns.status();

  std::map<std::string, int> organisatie_line;  // id → line that defined it
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& rec = (*records)[r];
    const std::string_view source = organisaties_name;
    if (rec.fields.size() != columns->width()) {
      return LineError(source, rec.line,
                       absl::StrCat("expected ", columns->width(), " fields, found ",
                                    rec.fields.size()));
    }
    OrganisatieRegel regel;
    regel.line = rec.line;
    regel.gemeentecode = columns->Get(rec, "gemeentecode");
    if (!IsDigits(regel.gemeentecode, 4)) {
      return LineError(source, rec.line,
                       absl::StrCat("gemeentecode \"", regel.gemeentecode, "\" is not 4 digits"));
    }
    if (IsBijzondereGemeentecode(regel.gemeentecode)) {
      return LineError(source, rec.line,
                       absl::StrCat("gemeentecode ", regel.gemeentecode,
                                    " always routes to \"onbekend\" and cannot have a row"));
    }
    if (auto old = direct.find(regel.gemeentecode); old != direct.end()) {
      return LineError(source, rec.line,
                       absl::StrCat("gemeente ", regel.gemeentecode, " ceased on ",
                                    util::FormatDate(old->second.front()->ingangsdatum),
                                    " (", A(herindelingen_name), ":", old->second.front()->line,
                                    "); give its successor a row instead"));
    }
    regel.organisatie_id = columns->Get(rec, "organisatie_id");
    if (!IsValidOrganisatieId(regel.organisatie_id)) {
      return LineError(source, rec.line,
                       absl::StrCat("organisatie_id \"", regel.organisatie_id,
                                    "\" must be 1-64 of [A-Za-z0-9._-]"));
    }
    Organisatie org{regel.organisatie_id, columns->Get(rec, "organisatie_naam"),
                    columns->Get(rec, "oin")};
    if (org.naam.empty()) return LineError(source, rec.line, "organisatie_naam is empty");
    if (!org.oin.empty() && !IsDigits(org.oin, 20)) {
      return LineError(source, rec.line,
                       absl::StrCat("oin \"", org.oin, "\" is not 20 digits"));
    }
    absl::StatusOr<std::optional<absl::CivilDay>> van =
        OptionalDate(columns->Get(rec, "geldig_van"), "geldig_van", source, rec.line);
    if (!van.ok()) return van.status();
    absl::StatusOr<std::optional<absl::CivilDay>> tot =
        OptionalDate(columns->Get(rec, "geldig_tot"), "geldig_tot", source, rec.line);
    if (!tot.ok()) return tot.status();
    regel.geldig_van = *van;
    regel.geldig_tot = *tot;
    if (regel.geldig_van && regel.geldig_tot && *regel.geldig_tot < *regel.geldig_van) {
      return LineError(source, rec.line, "geldig_tot lies before geldig_van");
    }
    regel.achttien_plus_organisatie_id = columns->Get(rec, "achttien_plus_organisatie_id");
    if (regel.achttien_plus_organisatie_id.empty()) {
      regel.achttien_plus_organisatie_id = regel.organisatie_id;
    } else if (!IsValidOrganisatieId(regel.achttien_plus_organisatie_id)) {
      return LineError(source, rec.line,
                       absl::StrCat("achttien_plus_organisatie_id \"",
                                    regel.achttien_plus_organisatie_id,
                                    "\" must be 1-64 of [A-Za-z0-9._-]"));
    }

    // One organisation, one name and OIN: they end up in every signal.
    auto [it, inserted] = tabel.organisaties_.emplace(org.id, org);
    if (inserted) {
      organisatie_line[org.id] = rec.line;
    } else if (!(it->second == org)) {
      return LineError(source, rec.line,
                       absl::StrCat("organisatie ", org.id,
                                    " has another naam or oin than on line ",
                                    organisatie_line[org.id]));
    }

    // Two rows valid on one day would make the route depend on file order.
    auto& indexes = tabel.regels_per_gemeente_[regel.gemeentecode];
    for (size_t i : indexes) {
      const OrganisatieRegel& other = tabel.regels_[i];
      const bool disjoint =
          (other.geldig_tot && regel.geldig_van && *other.geldig_tot < *regel.geldig_van) ||
          (regel.geldig_tot && other.geldig_van && *regel.geldig_tot < *other.geldig_van);
      if (!disjoint) {
        return LineError(source, rec.line,
                         absl::StrCat("gemeente ", regel.gemeentecode,
                                      " already has a row valid in this period (line ",
                                      other.line, ")"));
      }
    }
    indexes.push_back(tabel.regels_.size());
    tabel.regels_.push_back(std::move(regel));
  }

  // An 18-plus organisation that is nobody's leerplicht organisation is known
  // by its id only.
  for (const OrganisatieRegel& regel : tabel.regels_) {
    tabel.organisaties_.emplace(
        regel.achttien_plus_organisatie_id,
        Organisatie{regel.achttien_plus_organisatie_id, regel.achttien_plus_organisatie_id, ""});
  }
  tabel.organisaties_.emplace(std::string(kOnbekendOrganisatieId),
                              Organisatie{std::string(kOnbekendOrganisatieId), "Onbekend", ""});
  return tabel;
}

const Organisatie& OrganisatieTabel::onbekend() const {
  return organisaties_.find(kOnbekendOrganisatieId)->second;
}

std::vector<std::string> OrganisatieTabel::Opvolgers(std::string_view code) const {
  auto it = opvolgers_.find(code);
  if (it != opvolgers_.end()) return it->second;
  return {std::string(code)};
}

const OrganisatieRegel* OrganisatieTabel::RegelOp(std::string_view code,
                                                  absl::CivilDay date) const {
  auto it = regels_per_gemeente_.find(code);
  if (it == regels_per_gemeente_.end()) return nullptr;
  for (size_t i : it->second) {
    if (regels_[i].GeldigOp(date)) return &regels_[i];
  }
  return nullptr;
}

RouteResult OrganisatieTabel::Route(std::string_view code, absl::CivilDay date,
                                    bool achttien_plus) const {
  RouteResult result;
  auto add = [&result](const Organisatie& org) {
    for (const Organisatie& o : result.organisaties) {
      if (o.id == org.id) return;
    }
    result.organisaties.push_back(org);
  };
  if (!IsDigits(code, 4) || IsBijzondereGemeentecode(code)) {
    result.onbekend = true;
    add(onbekend());
    return result;
  }
  result.gemeenten = Opvolgers(code);
  result.ambigu = result.gemeenten.size() > 1;
  for (const std::string& gemeente : result.gemeenten) {
    const OrganisatieRegel* regel = RegelOp(gemeente, date);
    if (regel == nullptr) {
      result.onbekend = true;
      add(onbekend());
      continue;
    }
    const std::string& id =
        achttien_plus ? regel->achttien_plus_organisatie_id : regel->organisatie_id;
    add(organisaties_.find(id)->second);
  }
  return result;
}

}  // namespace inbeeld::routing

// The organisation and herindelingen CSV loaders of routing: the input is
// organisaties.csv, a form feed, herindelingen.csv. A table that parses must
// route every code on every date without crashing, and always to at least one
// organisation.
#include <cstdlib>

#include "absl/time/civil_time.h"
#include "fuzz/fuzz_input.h"
#include "inbeeld/routing/csv.h"
#include "inbeeld/routing/organisatie_tabel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace inbeeld;
  const std::string_view input = fuzz::AsView(data, size);
  const size_t ff = input.find('\f');
  const std::string_view organisaties = input.substr(0, ff);
  const std::string_view herindelingen =
      ff == std::string_view::npos ? std::string_view() : input.substr(ff + 1);
  routing::ParseCsv(input).IgnoreError();

  absl::StatusOr<routing::OrganisatieTabel> tabel =
      routing::OrganisatieTabel::Parse(organisaties, herindelingen);
  if (!tabel.ok()) return 0;
  std::vector<std::string> codes = {"0000", "0998", "1999", "0363", "9999", ""};
  for (const routing::OrganisatieRegel& r : tabel->regels()) codes.push_back(r.gemeentecode);
  for (const routing::Herindeling& h : tabel->herindelingen()) codes.push_back(h.oud);
  for (const absl::CivilDay day : {absl::CivilDay(1900, 1, 1), absl::CivilDay(2024, 3, 1),
                                   absl::CivilDay(2199, 12, 31)}) {
    for (const std::string& code : codes) {
      for (bool achttien_plus : {false, true}) {
        routing::RouteResult r = tabel->Route(code, day, achttien_plus);
        if (r.organisaties.empty()) std::abort();  // never dropped: at least onbekend
      }
    }
  }
  return 0;
}

#pragma once
// The leerplichttelling (art. 25; DOMAIN.md §8) over many jongeren: counts
// every jongere once per figure per gemeente (today's code: merged gemeenten
// through the herindelingen of the routing table) and per organisation, and
// writes it as CSV or JSON (docs/TELLING.md). Used by `inbeeld telling FILE`
// (offline, the same core as replay) and by TellingService (live, from the
// signaling service's state), so the same events give the same telling.
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "inbeeld/routing/organisatie_tabel.h"
#include "inbeeld/v1/telling_service.pb.h"
#include "inbeeld/signaling/core/config.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/telling.h"

namespace inbeeld::signaling {

struct TellingFilter {
  std::vector<std::string> gemeenten;  // today's codes; empty = all
  std::string organisatie;             // empty = all
};

// The gemeenten (today's codes) whose leerplicht organisation is
// `organisatie` on some row of the table.
std::set<std::string> GemeentenVanOrganisatie(const routing::OrganisatieTabel& tabel,
                                              const std::string& organisatie);

// INVALID_ARGUMENT naming the unknown gemeente or organisation.
absl::Status ControleerFilter(const routing::OrganisatieTabel& tabel, const TellingFilter& filter);

class TellingOpbouw {
 public:
  // `tabel` must outlive this. tot_en_met is clamped to the year's 31 July.
  TellingOpbouw(const routing::OrganisatieTabel& tabel, Schooljaar jaar, absl::CivilDay tot_en_met,
                CoreConfig config);

  // Adds one jongere (its facts, as stored or read from a file).
  void Voeg(const Feiten& feiten, const std::string& pseudoniem);
  size_t jongeren() const { return jongeren_; }

  // The telling: one row per gemeente (every gemeente of the table selected
  // by the filter, plus any other code that counted, e.g. 0000), one per
  // organisation. The filter must have passed ControleerFilter.
  v1::TellingResponse Resultaat(const TellingFilter& filter) const;

 private:
  using Tellers = std::map<std::string, std::set<std::string>>;  // kolom → pseudoniemen
  const routing::OrganisatieTabel& tabel_;
  Schooljaar jaar_;
  absl::CivilDay tot_en_met_;
  CoreConfig config_;
  size_t jongeren_ = 0;
  std::map<std::string, Tellers> per_gemeente_;
  std::map<std::string, Tellers> per_organisatie_;
};

// CSV: a header (schooljaar, tot_en_met, gemeentecode, organisatie, then
// every column of TellingKolommen()) and one row per gemeente, or per
// organisation when `per_organisatie`.
std::string TellingCsv(const v1::TellingResponse& telling, bool per_organisatie);
// JSON: {"schooljaar", "tot_en_met", "gemeenten": [{gemeentecode,
// organisatie, <column>: n, ...}], "organisaties": [...]}, columns in order.
std::string TellingJson(const v1::TellingResponse& telling);

struct TellingBestandOptions {
  Schooljaar jaar;
  std::optional<absl::CivilDay> tot_en_met;  // default: 31 July of the year
  std::string pseudonym_secret;              // empty = development secret
  CoreConfig config;
  TellingFilter filter;
};

// Offline: reads Event JSON lines like `inbeeld replay` (a bad line is
// INVALID_ARGUMENT "line N: ...", never the identifier) and computes the
// telling. `progress` (may be null) gets a line per 1000 jongeren.
absl::StatusOr<v1::TellingResponse> TellingUitBestand(std::istream& in, const routing::OrganisatieTabel& tabel,
                                                      const TellingBestandOptions& options,
                                                      std::ostream* progress);

// `inbeeld telling ...`: args after "telling". Exit 0 ok, 2 usage/bad input,
// 1 I/O or server error.
int TellingMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int TellingMain(const std::vector<std::string>& args);

}  // namespace inbeeld::signaling

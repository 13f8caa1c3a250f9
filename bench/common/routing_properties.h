#pragma once
// The routing properties of issue 8, checked on the organisations every
// signal actually reaches (the core as `inbeeld replay` runs it, then
// routing::RouteSignaal with a table). Independent of how the core tells
// routing about a case: cases are followed here from the routed signals.
//  (i)   no signal goes to "onbekend" when any event of the jongere named a
//        gemeente the table knows;
//  (ii)  every closing signal (ABSOLUUT_VERZUIM_OPGELOST, WEER_IN_BEELD)
//        reaches every organisation that received the signal that opened its
//        case (ABSOLUUT_VERZUIM, UIT_BEELD), and every organisation an
//        OVERDRACHT told while the case was open;
//  (iii) no OVERDRACHT has 0000, 0998 or 1999 (or nothing) as its old or new
//        woongemeente.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "inbeeld/routing/router.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/signaling/core/config.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"

namespace inbeeld::signaling::bench {

struct RoutingTelling {
  int64_t jongeren = 0;
  int64_t signalen = 0;
  int64_t overdrachten = 0;
  int64_t sluitingen = 0;
  // Violations, counted per signal.
  int64_t onbekend_met_gemeente = 0;       // (i)
  int64_t sluiting_mist_organisatie = 0;   // (ii)
  int64_t overdracht_bijzondere_code = 0;  // (iii)
  int64_t route_fouten = 0;                // RouteSignaal refused a signal

  int64_t Schendingen() const {
    return onbekend_met_gemeente + sluiting_mist_organisatie + overdracht_bijzondere_code + route_fouten;
  }
  void Tel(const RoutingTelling& o) {
    jongeren += o.jongeren;
    signalen += o.signalen;
    overdrachten += o.overdrachten;
    sluitingen += o.sluitingen;
    onbekend_met_gemeente += o.onbekend_met_gemeente;
    sluiting_mist_organisatie += o.sluiting_mist_organisatie;
    overdracht_bijzondere_code += o.overdracht_bijzondere_code;
    route_fouten += o.route_fouten;
  }
};

namespace detail {

inline bool Bijzonder(std::string_view code) {
  return code.empty() || code == "0000" || code == "0998" || code == "1999";
}

// The signals of one jongere as `inbeeld replay` produces them: each day's
// events applied, then the end of the day; timers up to the last event date
// + the longest timer.
inline std::vector<v1::Signaal> Signalen(std::vector<v1::Event> ev, const std::string& pseudoniem,
                                         const CoreConfig& config) {
  std::vector<v1::Signaal> out;
  std::stable_sort(ev.begin(), ev.end(),
                   [](const v1::Event& a, const v1::Event& b) { return CanonicalLess(a, b); });
  Jongere j;
  auto neem = [&](std::vector<v1::Signaal> s) {
    for (v1::Signaal& x : s) out.push_back(std::move(x));
  };
  for (size_t i = 0; i < ev.size(); ++i) {
    neem(j.Apply(ev[i], pseudoniem, config));
    const absl::CivilDay dag = *DatumVan(ev[i]);
    if (i + 1 == ev.size() || *DatumVan(ev[i + 1]) != dag) neem(j.AdvanceTo(dag, pseudoniem, config));
  }
  if (!ev.empty()) neem(j.AdvanceTo(*DatumVan(ev.back()) + config.LongestTimerDays(), pseudoniem, config));
  return out;
}

// Order within a day as the core decides it: OVERDRACHT (the move is judged
// first), then closings, then openings.
inline int Rang(v1::SignaalSoort s) {
  switch (s) {
    case v1::SIGNAAL_SOORT_OVERDRACHT: return 0;
    case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST:
    case v1::SIGNAAL_SOORT_WEER_IN_BEELD: return 1;
    default: return 2;
  }
}

}  // namespace detail

// Runs one jongere and counts the violations of (i)–(iii).
inline RoutingTelling ControleerRouting(const std::vector<v1::Event>& events, const std::string& pseudoniem,
                                        const routing::OrganisatieTabel& tabel,
                                        const CoreConfig& config = CoreConfig()) {
  RoutingTelling t;
  t.jongeren = 1;
  bool gemeente_genoemd = false;
  for (const v1::Event& e : events) {
    std::string code;
    if (e.has_inschrijvingsmutatie()) code = e.inschrijvingsmutatie().woongemeente();
    if (e.has_verzuimmelding()) code = e.verzuimmelding().woongemeente();
    if (e.has_vrijstelling()) code = e.vrijstelling().gemeente();
    if (e.has_adresmutatie()) code = e.adresmutatie().gemeente();
    absl::StatusOr<absl::CivilDay> datum = DatumVan(e);
    if (!detail::Bijzonder(code) && datum.ok() && !tabel.Route(code, *datum, false).onbekend) {
      gemeente_genoemd = true;
    }
  }
  std::vector<v1::Signaal> signalen = detail::Signalen(events, pseudoniem, config);
  std::stable_sort(signalen.begin(), signalen.end(), [](const v1::Signaal& a, const v1::Signaal& b) {
    return std::make_tuple(a.peildatum(), detail::Rang(a.soort())) <
           std::make_tuple(b.peildatum(), detail::Rang(b.soort()));
  });
  // The organisations holding each case (nullopt: no case open).
  std::optional<std::set<std::string>> av, ub;
  for (const v1::Signaal& s : signalen) {
    ++t.signalen;
    absl::StatusOr<routing::Routering> r = routing::RouteSignaal(tabel, s);
    if (!r.ok()) {
      ++t.route_fouten;
      continue;
    }
    std::set<std::string> orgs;
    for (const routing::Aflevering& a : r->afleveringen) orgs.insert(a.organisatie_id);
    if (gemeente_genoemd && orgs.count(std::string(routing::kOnbekendOrganisatieId)) > 0) {
      ++t.onbekend_met_gemeente;
    }
    switch (s.soort()) {
      case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM:
        av = orgs;
        break;
      case v1::SIGNAAL_SOORT_UIT_BEELD:
        ub = orgs;
        break;
      case v1::SIGNAAL_SOORT_OVERDRACHT:
        ++t.overdrachten;
        if (detail::Bijzonder(s.woongemeente()) || detail::Bijzonder(s.vorige_woongemeente())) {
          ++t.overdracht_bijzondere_code;
        }
        if (av) av->insert(orgs.begin(), orgs.end());
        if (ub) ub->insert(orgs.begin(), orgs.end());
        break;
      case v1::SIGNAAL_SOORT_ABSOLUUT_VERZUIM_OPGELOST:
      case v1::SIGNAAL_SOORT_WEER_IN_BEELD: {
        ++t.sluitingen;
        std::optional<std::set<std::string>>& zaak =
            s.soort() == v1::SIGNAAL_SOORT_WEER_IN_BEELD ? ub : av;
        if (zaak && !std::includes(orgs.begin(), orgs.end(), zaak->begin(), zaak->end())) {
          ++t.sluiting_mist_organisatie;
        }
        zaak.reset();
        break;
      }
      default:
        break;
    }
  }
  return t;
}

}  // namespace inbeeld::signaling::bench

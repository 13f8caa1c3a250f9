#include "inbeeld/signaling/core/inschrijving.h"

#include <algorithm>

namespace inbeeld::signaling {

std::vector<Inschrijving> BouwInschrijvingen(const std::vector<MutatieFeit>& mutaties,
                                             const std::vector<MeldingFeit>& meldingen) {
  // `mutaties` is in canonical order: by date, inschrijvingen before
  // uitschrijvingen (FeitSoort order), then bron/id; `meldingen` by date.
  std::vector<Inschrijving> out;
  std::vector<size_t> open;  // indexes into out, in start order
  size_t next_melding = 0;
  // A verzuimmelding is relatief verzuim: the reporting school has the
  // jongere enrolled (DOMAIN.md §1: "relatief verzuim = enrolled but absent").
  // When the mutaties say nothing about that school (no enrolment at its BRIN
  // known at all), the melding stands for an enrolment there of unknown start,
  // open until an uitschrijving at that BRIN.
  auto imply_from_meldingen_until = [&](std::optional<absl::CivilDay> until) {
    for (; next_melding < meldingen.size(); ++next_melding) {
      const MeldingFeit& mf = meldingen[next_melding];
      if (until.has_value() && mf.meldingsdatum >= *until) break;  // mutaties of a day go first
      const std::string& brin = mf.melding->brin();
      const bool known = std::any_of(out.begin(), out.end(), [&](const Inschrijving& i) { return i.brin == brin; });
      if (!known && !brin.empty()) {
        out.push_back({std::nullopt, std::nullopt, brin, v1::ONDERWIJSSOORT_UNSPECIFIED, nullptr});
        open.push_back(out.size() - 1);
      }
    }
  };
  for (const MutatieFeit& mf : mutaties) {
    imply_from_meldingen_until(mf.datum);
    const v1::InschrijvingsMutatie& m = *mf.mutatie;
    if (m.soort() == v1::MUTATIE_SOORT_INSCHRIJVING) {
      out.push_back({mf.datum, std::nullopt, m.brin(), m.onderwijssoort(), nullptr});
      open.push_back(out.size() - 1);
      continue;
    }
    if (m.soort() != v1::MUTATIE_SOORT_UITSCHRIJVING) continue;
    // The earliest-started open enrolment at the uitschrijving's BRIN.
    auto earliest_same_brin = [&]() -> std::optional<size_t> {
      std::optional<size_t> best;
      std::optional<size_t> zelfde_dag;  // an open enrolment at this BRIN starting on D
      for (size_t pos = 0; pos < open.size(); ++pos) {
        const Inschrijving& i = out[open[pos]];
        if (i.brin != m.brin()) continue;
        // An enrolment that starts after D is not ended by it. One that
        // starts on D is closed only when no earlier one at this BRIN is
        // open (below): then the jongere was enrolled exactly that day.
        if (i.van.has_value() && *i.van > mf.datum) continue;
        if (i.van.has_value() && *i.van == mf.datum) {
          if (!zelfde_dag.has_value()) zelfde_dag = pos;
          continue;
        }
        // Unknown start (implied by a melding) counts as the earliest.
        const std::optional<absl::CivilDay>& best_van = best.has_value() ? out[open[*best]].van : std::nullopt;
        if (!best.has_value() || (best_van.has_value() && (!i.van.has_value() || *i.van < *best_van))) best = pos;
      }
      // The same-date rule ("an uitschrijving and an inschrijving on one date
      // never produce a signal", DOMAIN.md §6; art. 10) is for a switch
      // between two schools: at one school, an uitschrijving dated D ends an
      // enrolment that started earlier (a re-enrolment on D stays open), and
      // only without one the enrolment that started on D (a one-day stay;
      // the waits start on D + 1).
      return best.has_value() ? best : zelfde_dag;
    };
    // Only an enrolment at the same BRIN is closed. Without one, the
    // uitschrijving stands for an enrolment at that school whose start is
    // unknown: art. 10 lets a school remove a pupil only after another school
    // enrolled him, so an open enrolment elsewhere is typically the NEW school
    // and must stay open.
    std::optional<size_t> pos = earliest_same_brin();
    if (pos.has_value()) {
      Inschrijving& i = out[open[*pos]];
      i.tot = mf.datum;
      i.uitschrijving = &m;
      open.erase(open.begin() + static_cast<long>(*pos));
    } else {
      out.push_back({std::nullopt, mf.datum, m.brin(), m.onderwijssoort(), &m});
    }
  }
  imply_from_meldingen_until(std::nullopt);
  return out;
}

bool IngeschrevenOp(const std::vector<Inschrijving>& inschrijvingen, absl::CivilDay day) {
  return std::any_of(inschrijvingen.begin(), inschrijvingen.end(),
                     [day](const Inschrijving& i) { return i.ActiefOp(day); });
}

}  // namespace inbeeld::signaling

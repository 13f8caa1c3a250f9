#include "services/signaling/core/enrolment.h"

#include <algorithm>

namespace inbeeld::signaling {

std::vector<Inschrijving> BouwInschrijvingen(const std::vector<MutatieFeit>& mutaties) {
  // `mutaties` is in canonical order: by date, inschrijvingen before
  // uitschrijvingen (FeitSoort order), then bron/id.
  std::vector<Inschrijving> out;
  std::vector<size_t> open;  // indexes into out, in start order
  for (const MutatieFeit& mf : mutaties) {
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
      for (size_t pos = 0; pos < open.size(); ++pos) {
        const Inschrijving& i = out[open[pos]];
        if (i.brin != m.brin()) continue;
        // An uitschrijving dated D (last enrolled day) never closes an
        // enrolment that starts on D: that is the next enrolment (a school
        // switch on one date), so the uitschrijving ends an earlier one, or
        // one whose start is unknown. DOMAIN.md §6: "an uitschrijving and an
        // inschrijving on one date never produce a signal"; art. 10.
        if (*i.van >= mf.datum) continue;
        if (!best.has_value() || *i.van < *out[open[*best]].van) best = pos;
      }
      return best;
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
  return out;
}

bool IngeschrevenOp(const std::vector<Inschrijving>& inschrijvingen, absl::CivilDay day) {
  return std::any_of(inschrijvingen.begin(), inschrijvingen.end(),
                     [day](const Inschrijving& i) { return i.ActiefOp(day); });
}

}  // namespace inbeeld::signaling

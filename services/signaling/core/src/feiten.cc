#include "inbeeld/signaling/core/feiten.h"

#include <algorithm>
#include <utility>

#include "inbeeld/util/dates.h"

namespace inbeeld::signaling {
namespace {

std::string_view DatumTekst(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding:
      return e.verzuimmelding().meldingsdatum();
    case v1::Event::kInschrijvingsmutatie:
      return e.inschrijvingsmutatie().ingangsdatum();
    case v1::Event::kAdresmutatie:
      return e.adresmutatie().ingangsdatum();
    case v1::Event::kVrijstelling:
      return e.vrijstelling().van();
    default:
      return {};
  }
}

std::pair<std::string_view, std::string_view> BronEnId(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding:
      return {e.verzuimmelding().bron(), e.verzuimmelding().melding_id()};
    case v1::Event::kInschrijvingsmutatie:
      return {e.inschrijvingsmutatie().bron(), e.inschrijvingsmutatie().mutatie_id()};
    case v1::Event::kAdresmutatie:
      return {e.adresmutatie().bron(), e.adresmutatie().mutatie_id()};
    case v1::Event::kVrijstelling:
      return {e.vrijstelling().bron(), e.vrijstelling().id()};
    default:
      return {};
  }
}

}  // namespace

FeitSoort SoortVan(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding:
      return FeitSoort::kVerzuimMelding;
    case v1::Event::kInschrijvingsmutatie:
      return e.inschrijvingsmutatie().soort() == v1::MUTATIE_SOORT_UITSCHRIJVING
                 ? FeitSoort::kUitschrijving
                 : FeitSoort::kInschrijving;
    case v1::Event::kAdresmutatie:
      return FeitSoort::kAdresMutatie;
    case v1::Event::kVrijstelling:
      return FeitSoort::kVrijstelling;
    default:
      return FeitSoort::kOnbekend;
  }
}

absl::StatusOr<absl::CivilDay> DatumVan(const v1::Event& e) {
  return util::ParseDate(DatumTekst(e));
}

std::string RefVan(const v1::Event& e) {
  auto [bron, id] = BronEnId(e);
  return std::string(bron).append("/").append(id);
}

std::string DedupSleutel(const v1::Event& e) {
  auto [bron, id] = BronEnId(e);
  return std::string(bron).append(1, '\0').append(id);
}

bool ZelfdeDedupSleutel(const v1::Event& a, const v1::Event& b) {
  const auto [bron_a, id_a] = BronEnId(a);
  const auto [bron_b, id_b] = BronEnId(b);
  return id_a == id_b && bron_a == bron_b;
}

const v1::Leerling* LeerlingVan(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding:
      return &e.verzuimmelding().leerling();
    case v1::Event::kInschrijvingsmutatie:
      return &e.inschrijvingsmutatie().leerling();
    case v1::Event::kAdresmutatie:
      return &e.adresmutatie().leerling();
    case v1::Event::kVrijstelling:
      return &e.vrijstelling().leerling();
    default:
      return nullptr;
  }
}

std::string_view GeboortedatumVan(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding:
      return e.verzuimmelding().geboortedatum();
    case v1::Event::kInschrijvingsmutatie:
      return e.inschrijvingsmutatie().geboortedatum();
    case v1::Event::kAdresmutatie:
      return e.adresmutatie().geboortedatum();
    case v1::Event::kVrijstelling:
      return e.vrijstelling().geboortedatum();
    default:
      return {};
  }
}

bool CanonicalLess(const v1::Event& a, const v1::Event& b) {
  // (date, kind, bron, id), compared one part at a time: facts mostly differ
  // by date, and this runs for every insert and every recomputation.
  // ISO dates compare correctly as strings.
  if (const int c = DatumTekst(a).compare(DatumTekst(b)); c != 0) return c < 0;
  if (const int sa = static_cast<int>(SoortVan(a)), sb = static_cast<int>(SoortVan(b)); sa != sb) return sa < sb;
  const auto ka = BronEnId(a), kb = BronEnId(b);
  if (ka != kb) return ka < kb;
  // Same date, kind and (bron, id) but other content (a conflicting retry):
  // order by content so that which one is applied first (and wins the
  // idempotency check) does not depend on the input order (determinism).
  return a.SerializeAsString() < b.SerializeAsString();
}

std::vector<std::string> Feiten::RefsOp(absl::CivilDay day) const {
  std::vector<std::string> refs;
  for (const Feit& f : alle) {
    if (f.datum == day) refs.push_back(f.ref);
  }
  return refs;
}

std::optional<absl::CivilDay> Feiten::LaatsteFeitTot(absl::CivilDay day) const {
  std::optional<absl::CivilDay> laatste;
  for (const Feit& f : alle) {
    if (f.datum <= day) laatste = f.datum;  // sorted by date
  }
  return laatste;
}

Feiten ParseFeiten(const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  Feiten out;
  std::vector<const v1::Event*> sorted;
  sorted.reserve(events.size());
  for (const v1::Event& e : events) sorted.push_back(&e);
  const auto less = [](const v1::Event* a, const v1::Event* b) { return CanonicalLess(*a, *b); };
  // A jongere's state keeps its facts in this order (Jongere::Insert): one
  // pass to see that, instead of a sort's n log n comparisons every time.
  if (!std::is_sorted(sorted.begin(), sorted.end(), less)) std::sort(sorted.begin(), sorted.end(), less);
  for (const v1::Event* e : sorted) {
    absl::StatusOr<absl::CivilDay> datum = DatumVan(*e);
    if (!datum.ok()) continue;
    Feit feit{e, SoortVan(*e), *datum, RefVan(*e)};
    if (out.alle.empty()) {
      out.bekend_vanaf = *datum;
      if (const v1::Leerling* l = LeerlingVan(*e)) out.leerling = *l;
    }
    if (!out.geboortedatum.has_value()) {
      absl::StatusOr<absl::CivilDay> geb = util::ParseDate(GeboortedatumVan(*e));
      if (geb.ok()) out.geboortedatum = *geb;
    }
    switch (e->event_case()) {
      case v1::Event::kVerzuimmelding: {
        const v1::VerzuimMelding& m = e->verzuimmelding();
        MeldingFeit mf{&m, *datum, *datum, std::nullopt, feit.ref};
        if (auto b = util::ParseDate(m.begindatum()); b.ok()) mf.begindatum = *b;
        if (m.has_einddatum()) {
          if (auto d = util::ParseDate(m.einddatum()); d.ok()) mf.einddatum = *d;
        }
        out.meldingen.push_back(std::move(mf));
        break;
      }
      case v1::Event::kInschrijvingsmutatie:
        out.mutaties.push_back({&e->inschrijvingsmutatie(), *datum, feit.ref});
        break;
      case v1::Event::kAdresmutatie:
        out.adressen.push_back({&e->adresmutatie(), *datum, feit.ref});
        break;
      case v1::Event::kVrijstelling: {
        VrijstellingFeit vf{&e->vrijstelling(), *datum, std::nullopt, feit.ref};
        if (!e->vrijstelling().tot().empty()) {
          if (auto t = util::ParseDate(e->vrijstelling().tot()); t.ok()) vf.tot = *t;
        }
        out.vrijstellingen.push_back(std::move(vf));
        break;
      }
      default:
        break;
    }
    out.alle.push_back(std::move(feit));
  }
  return out;
}

}  // namespace inbeeld::signaling

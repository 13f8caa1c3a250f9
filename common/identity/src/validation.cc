#include "inbeeld/identity/validation.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::identity {
namespace {

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Σ d_i · (9 - i) for the first 8 digits.
int WeightedSum8(std::string_view s) {
  int sum = 0;
  for (int i = 0; i < 8; ++i) sum += (s[i] - '0') * (9 - i);
  return sum;
}

int Mod11(int x) { return ((x % 11) + 11) % 11; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// Collects violations with a common path prefix.
class Checker {
 public:
  explicit Checker(std::string_view prefix) : prefix_(prefix) {}

  void Fail(std::string_view field, std::string_view description) {
    violations_.push_back({prefix_ + std::string(field), std::string(description)});
  }

  void Id(std::string_view field, const std::string& value) {
    if (value.empty()) return Fail(field, "is required");
    if (value.size() > kMaxIdLength) return Fail(field, absl::StrCat("longer than ", kMaxIdLength, " characters"));
    for (unsigned char c : value) {
      if (c < 0x21 || c > 0x7e) return Fail(field, "may contain only printable ASCII without spaces");
    }
  }

  void Bron(const std::string& bron) {
    if (bron.empty()) return Fail("bron", "is required");
    if (bron.size() > kMaxBronLength) return Fail("bron", absl::StrCat("longer than ", kMaxBronLength, " characters"));
    for (unsigned char c : bron) {
      if (c < 0x21 || c > 0x7e) return Fail("bron", "may contain only printable ASCII without spaces");
    }
  }

  void Leerling(const v1::Leerling* l, bool present) {
    if (!present || l->id_case() == v1::Leerling::ID_NOT_SET) {
      return Fail("leerling", "is required: set bsn or onderwijsnummer");
    }
    if (l->has_bsn()) {
      if (!IsValidBsn(l->bsn())) Fail("leerling.bsn", "is not a valid BSN (9 digits, eleven-test)");
    } else if (!IsValidOnderwijsnummer(l->onderwijsnummer())) {
      Fail("leerling.onderwijsnummer",
           "is not a valid onderwijsnummer (9 digits starting with 10, eleven-test remainder 5)");
    }
  }

  std::optional<absl::CivilDay> Date(std::string_view field, const std::string& value, bool required) {
    if (value.empty()) {
      if (required) Fail(field, "is required (YYYY-MM-DD)");
      return std::nullopt;
    }
    auto d = util::ParseDate(value);
    if (!d.ok()) {
      Fail(field, std::string(d.status().message()));
      return std::nullopt;
    }
    return *d;
  }

  void Brin(const std::string& brin, bool required) {
    if (brin.empty()) {
      if (required) Fail("brin", "is required");
      return;
    }
    if (!IsValidBrin(brin)) Fail("brin", "must be 2 digits and 2 capital letters, e.g. 05KO");
  }

  void Vestiging(const std::string& v) {
    if (!v.empty() && !IsValidVestiging(v)) Fail("vestiging", "must be 2 digits, e.g. 00");
  }

  void Gemeente(std::string_view field, const std::string& code, bool required) {
    if (code.empty()) {
      if (required) Fail(field, "is required (4-digit gemeentecode)");
      return;
    }
    if (!IsValidGemeentecode(code)) Fail(field, "must be a 4-digit gemeentecode, e.g. 0363");
  }

  void Text(std::string_view field, const std::string& value, size_t max) {
    if (value.size() > max) Fail(field, absl::StrCat("longer than ", max, " characters"));
  }

  Violations Take() { return std::move(violations_); }

 private:
  std::string prefix_;
  Violations violations_;
};

}  // namespace

bool IsValidBsn(std::string_view bsn) {
  if (bsn.size() != 9 || !AllDigits(bsn)) return false;
  if (bsn == "000000000") return false;
  return Mod11(WeightedSum8(bsn) - (bsn[8] - '0')) == 0;
}

bool IsValidOnderwijsnummer(std::string_view nummer) {
  if (nummer.size() != 9 || !AllDigits(nummer)) return false;
  if (nummer.substr(0, 2) != "10") return false;
  // The same weighted sum as the BSN, but with remainder 5 (DOMAIN.md §3).
  return Mod11(WeightedSum8(nummer) - (nummer[8] - '0')) == 5;
}

bool IsValidBrin(std::string_view brin) {
  return brin.size() == 4 && IsDigit(brin[0]) && IsDigit(brin[1]) && IsUpper(brin[2]) &&
         IsUpper(brin[3]);
}

bool IsValidVestiging(std::string_view v) {
  return v.size() == 2 && IsDigit(v[0]) && IsDigit(v[1]);
}

bool IsValidGemeentecode(std::string_view code) { return code.size() == 4 && AllDigits(code); }

Violations Validate(const v1::VerzuimMelding& m, std::string_view prefix) {
  Checker c(prefix);
  c.Id("melding_id", m.melding_id());
  c.Bron(m.bron());
  c.Leerling(&m.leerling(), m.has_leerling());
  c.Date("geboortedatum", m.geboortedatum(), true);
  c.Brin(m.brin(), true);
  c.Vestiging(m.vestiging());
  c.Gemeente("woongemeente", m.woongemeente(), false);
  if (m.soort() == v1::VERZUIM_SOORT_UNSPECIFIED || !v1::VerzuimSoort_IsValid(m.soort())) {
    c.Fail("soort", "is required");
  }
  auto melding = c.Date("meldingsdatum", m.meldingsdatum(), true);
  auto begin = c.Date("begindatum", m.begindatum(), true);
  std::optional<absl::CivilDay> eind;
  if (m.has_einddatum()) eind = c.Date("einddatum", m.einddatum(), true);
  if (begin && melding && *begin > *melding) c.Fail("begindatum", "is after meldingsdatum");
  if (begin && eind && *eind < *begin) c.Fail("einddatum", "is before begindatum");
  if (m.verzuim_uren() > 10000) c.Fail("verzuim_uren", "must be at most 10000");
  if (m.verzuim_dagen() > 1000) c.Fail("verzuim_dagen", "must be at most 1000");
  if (!v1::SchoolActie_IsValid(m.school_actie())) c.Fail("school_actie", "unknown value");
  c.Text("vermoedelijke_reden", m.vermoedelijke_reden(), 1000);
  c.Text("leslocatie", m.leslocatie(), 200);
  c.Text("contactpersoon", m.contactpersoon(), 200);
  c.Text("afwijkend_adres", m.afwijkend_adres(), 300);
  return c.Take();
}

Violations Validate(const v1::InschrijvingsMutatie& m, std::string_view prefix) {
  Checker c(prefix);
  c.Id("mutatie_id", m.mutatie_id());
  c.Bron(m.bron());
  c.Leerling(&m.leerling(), m.has_leerling());
  auto geboorte = c.Date("geboortedatum", m.geboortedatum(), true);
  c.Brin(m.brin(), true);
  c.Vestiging(m.vestiging());
  c.Gemeente("woongemeente", m.woongemeente(), false);
  auto ingang = c.Date("ingangsdatum", m.ingangsdatum(), true);
  if (geboorte && ingang && *ingang < *geboorte) c.Fail("ingangsdatum", "is before geboortedatum");
  if (m.onderwijssoort() == v1::ONDERWIJSSOORT_UNSPECIFIED || !v1::Onderwijssoort_IsValid(m.onderwijssoort())) {
    c.Fail("onderwijssoort", "is required");
  }
  if (!v1::Diploma_IsValid(m.diploma())) c.Fail("diploma", "unknown value");
  if (!v1::Uitschrijfreden_IsValid(m.uitschrijfreden())) c.Fail("uitschrijfreden", "unknown value");
  switch (m.soort()) {
    case v1::MUTATIE_SOORT_INSCHRIJVING:
      if (m.uitschrijfreden() != v1::UITSCHRIJFREDEN_UNSPECIFIED) {
        c.Fail("uitschrijfreden", "must be unset on an inschrijving");
      }
      if (m.diploma() != v1::DIPLOMA_UNSPECIFIED) c.Fail("diploma", "must be unset on an inschrijving");
      break;
    case v1::MUTATIE_SOORT_UITSCHRIJVING:
      if (m.uitschrijfreden() == v1::UITSCHRIJFREDEN_UNSPECIFIED) {
        c.Fail("uitschrijfreden", "is required on an uitschrijving (use UITSCHRIJFREDEN_ONBEKEND)");
      }
      break;
    default:
      c.Fail("soort", "is required");
  }
  return c.Take();
}

Violations Validate(const v1::AdresMutatie& m, std::string_view prefix) {
  Checker c(prefix);
  c.Id("mutatie_id", m.mutatie_id());
  c.Bron(m.bron());
  c.Leerling(&m.leerling(), m.has_leerling());
  auto geboorte = c.Date("geboortedatum", m.geboortedatum(), true);
  auto ingang = c.Date("ingangsdatum", m.ingangsdatum(), true);
  if (geboorte && ingang && *ingang < *geboorte) c.Fail("ingangsdatum", "is before geboortedatum");
  bool needs_gemeente = false;
  switch (m.soort()) {
    case v1::ADRES_MUTATIE_SOORT_GEBOORTE:
    case v1::ADRES_MUTATIE_SOORT_IMMIGRATIE:
    case v1::ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND:
      needs_gemeente = true;
      break;
    case v1::ADRES_MUTATIE_SOORT_EMIGRATIE:
    case v1::ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN:
    case v1::ADRES_MUTATIE_SOORT_VERBLIJFT_NIET_OP_ADRES:
    case v1::ADRES_MUTATIE_SOORT_OVERLIJDEN:
      break;
    default:
      c.Fail("soort", "is required");
  }
  c.Gemeente("gemeente", m.gemeente(), needs_gemeente);
  if (needs_gemeente && (m.gemeente() == "0000" || m.gemeente() == "0998" || m.gemeente() == "1999")) {
    c.Fail("gemeente", "must be a Dutch woongemeente for this soort");
  }
  return c.Take();
}

Violations Validate(const v1::Vrijstelling& m, std::string_view prefix) {
  Checker c(prefix);
  c.Id("id", m.id());
  c.Bron(m.bron());
  c.Leerling(&m.leerling(), m.has_leerling());
  c.Date("geboortedatum", m.geboortedatum(), true);
  if (m.artikel() == v1::VRIJSTELLING_ARTIKEL_UNSPECIFIED || !v1::VrijstellingArtikel_IsValid(m.artikel())) {
    c.Fail("artikel", "is required");
  }
  auto van = c.Date("van", m.van(), true);
  auto tot = c.Date("tot", m.tot(), false);
  if (van && tot && *tot < *van) c.Fail("tot", "is before van");
  c.Gemeente("gemeente", m.gemeente(), false);
  return c.Take();
}

Violations Validate(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding: return Validate(e.verzuimmelding(), "verzuimmelding.");
    case v1::Event::kInschrijvingsmutatie: return Validate(e.inschrijvingsmutatie(), "inschrijvingsmutatie.");
    case v1::Event::kAdresmutatie: return Validate(e.adresmutatie(), "adresmutatie.");
    case v1::Event::kVrijstelling: return Validate(e.vrijstelling(), "vrijstelling.");
    default: return {{"event", "must hold one of verzuimmelding, inschrijvingsmutatie, adresmutatie, vrijstelling"}};
  }
}

std::string Describe(const Violations& v) {
  return absl::StrJoin(v, "; ", [](std::string* out, const FieldViolation& f) {
    absl::StrAppend(out, f.field, ": ", f.description);
  });
}

std::string IdentityKey(const v1::Leerling& leerling) {
  if (leerling.has_bsn()) return absl::StrCat("bsn:", leerling.bsn());
  if (leerling.has_onderwijsnummer()) return absl::StrCat("onr:", leerling.onderwijsnummer());
  return "";
}

EventRef RefOf(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding:
      return {"verzuimmelding", e.verzuimmelding().bron(), e.verzuimmelding().melding_id(),
              &e.verzuimmelding().leerling()};
    case v1::Event::kInschrijvingsmutatie:
      return {"inschrijvingsmutatie", e.inschrijvingsmutatie().bron(),
              e.inschrijvingsmutatie().mutatie_id(), &e.inschrijvingsmutatie().leerling()};
    case v1::Event::kAdresmutatie:
      return {"adresmutatie", e.adresmutatie().bron(), e.adresmutatie().mutatie_id(),
              &e.adresmutatie().leerling()};
    case v1::Event::kVrijstelling:
      return {"vrijstelling", e.vrijstelling().bron(), e.vrijstelling().id(), &e.vrijstelling().leerling()};
    default:
      return {};
  }
}

}  // namespace inbeeld::identity

#pragma once
// Who is obliged on a date: volledige leerplicht (Leerplichtwet 1969 art. 3),
// kwalificatieplicht (art. 4a) and vrijstelling van inschrijving (art. 5, 5a,
// 15). DOMAIN.md §1 and the conventions of §6.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "inbeeld/v1/common.pb.h"
#include "inbeeld/signaling/core/inschrijving.h"
#include "inbeeld/signaling/core/feiten.h"

namespace inbeeld::signaling {

// The date of the n-th birthday. Born 29 February: in a year without
// 29 February the birthday is 1 March (DOMAIN.md §6).
absl::CivilDay Verjaardag(absl::CivilDay geboortedatum, int jaren);
// Age in whole years on `day`.
int Leeftijd(absl::CivilDay geboortedatum, absl::CivilDay day);
// 31 July ending the school year (1 August – 31 July, WPO art. 1) that
// contains `day`.
absl::CivilDay EindeSchooljaar(absl::CivilDay day);

// Art. 3 lid 1: leerplicht starts on the first school day of the month after
// the month of the 5th birthday; InBeeld uses the 1st of that month (the
// grace period absorbs weekends and holidays).
absl::CivilDay LeerplichtBegin(absl::CivilDay geboortedatum);

struct LeerplichtEinde {
  absl::CivilDay tot;  // last day of volledige leerplicht
  // "zestien_jaar", "twaalf_schooljaren" or "twaalf_schooljaren_art3_lid2".
  std::string grond;
};

// Art. 3 lid 1: volledige leerplicht ends the earlier of the end of the school
// year in which the jongere turns 16 and the end of the school year in which
// the 12th full school year completes (a year is full when enrolled every day
// 1 Aug – 31 Jul; only years starting on or after the 4th birthday count).
// Art. 3 lid 2: a po/sbo/so enrolment spanning fewer than 8 school years
// (counting a partial first year) and followed by vo/vso/pro counts as 8 full
// years; not applied when a po enrolment's start is unknown.
LeerplichtEinde BerekenLeerplichtEinde(absl::CivilDay geboortedatum,
                                       const std::vector<Inschrijving>& inschrijvingen);

struct PlichtOordeel {
  v1::Plichtstatus status = v1::PLICHTSTATUS_NIET_PLICHTIG;
  // Texts of static storage (the rules' literals): the timeline asks for an
  // oordeel several times per day it evaluates, and copies one only into a
  // signal.
  std::string_view regel;    // e.g. "leerplicht.art3_lid1"
  std::string_view artikel;  // e.g. "Leerplichtwet 1969 art. 3 lid 1"
};

// The obligation timeline of one jongere.
class Plicht {
 public:
  // `geboortedatum` required; facts give diplomas, death and vrijstellingen.
  static Plicht Bereken(absl::CivilDay geboortedatum, const std::vector<Inschrijving>& inschrijvingen,
                        const Feiten& feiten);

  // Status without vrijstelling: NIET_PLICHTIG, LEERPLICHTIG or
  // KWALIFICATIEPLICHTIG.
  PlichtOordeel Basis(absl::CivilDay day) const;
  bool Plichtig(absl::CivilDay day) const;
  // The active vrijstelling on `day` that applies given the basis status
  // (art. 15 only during kwalificatieplicht), or nullptr.
  const VrijstellingFeit* ActieveVrijstelling(absl::CivilDay day) const;
  bool Vrijgesteld(absl::CivilDay day) const { return ActieveVrijstelling(day) != nullptr; }
  // Full status including VRIJGESTELD.
  PlichtOordeel Op(absl::CivilDay day) const;

  // Days on which the status may change (for the timeline's day jumps).
  void VoegGrenzenToe(std::vector<absl::CivilDay>* days) const;

  absl::CivilDay geboortedatum() const { return geboortedatum_; }
  absl::CivilDay leerplicht_van() const { return leerplicht_van_; }
  absl::CivilDay leerplicht_tot() const { return leerplicht_tot_; }
  const std::string& leerplicht_einde_grond() const { return leerplicht_einde_grond_; }
  std::optional<absl::CivilDay> kwalificatieplicht_van() const { return kwal_van_; }
  std::optional<absl::CivilDay> kwalificatieplicht_tot() const { return kwal_tot_; }
  absl::CivilDay achttien() const { return achttien_; }
  std::optional<absl::CivilDay> overleden() const { return overleden_; }

 private:
  absl::CivilDay geboortedatum_;
  absl::CivilDay leerplicht_van_;
  absl::CivilDay leerplicht_tot_;
  std::string leerplicht_einde_grond_;
  std::optional<absl::CivilDay> kwal_van_;
  std::optional<absl::CivilDay> kwal_tot_;
  absl::CivilDay achttien_;
  // First day without kwalificatieplicht through a diploma, and why.
  std::optional<absl::CivilDay> diploma_einde_;
  bool diploma_is_startkwalificatie_ = false;
  std::optional<absl::CivilDay> overleden_;
  std::vector<VrijstellingFeit> vrijstellingen_;
};

// The date of death from the facts (BRP overlijden or uitschrijving reden
// overlijden), if any.
std::optional<absl::CivilDay> OverlijdensDatum(const Feiten& feiten);

}  // namespace inbeeld::signaling

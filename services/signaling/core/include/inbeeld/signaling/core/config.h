#pragma once
// Grace periods and thresholds of the signaling rules (DOMAIN.md §6:
// "Thresholds and grace periods are configuration, with these defaults").

namespace inbeeld::signaling {

struct CoreConfig {
  // Absoluut verzuim: days the condition must last before the signal
  // (absorbs weekends, holidays and DUO's 7-day registration term, art. 10).
  int grace_days = 7;
  // Uitschrijving with reden vertrek buitenland: days to wait for a BRP
  // emigratie before UIT_BEELD + ABSOLUUT_VERZUIM.
  int buitenland_wacht_days = 30;
  // Absoluut verzuim open this many days without news: UIT_BEELD.
  int geen_nieuws_days = 90;
  // Langdurig relatief verzuim: 16-uur meldingen covering MORE than this many
  // days (4 weeks) chain into an LRV signal.
  int lrv_days = 28;
  // ABSOLUUT_VERZUIM_LANGDURIG: an absoluut verzuim still open at the end of
  // S + this many days (13 weeks: "langer dan 3 maanden" in the telling).
  int langdurig_days = 91;
  // VRIJSTELLING_LOOPT_AF: this many days (8 weeks) before the first day
  // without the vrijstelling.
  int vrijstelling_loopt_af_days = 56;

  // The longest timer: replay runs this far past the last event by default.
  int LongestTimerDays() const {
    int m = grace_days;
    if (buitenland_wacht_days > m) m = buitenland_wacht_days;
    if (geen_nieuws_days > m) m = geen_nieuws_days;
    if (lrv_days > m) m = lrv_days;
    if (langdurig_days > m) m = langdurig_days;
    return m;
  }
};

}  // namespace inbeeld::signaling

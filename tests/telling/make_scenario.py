#!/usr/bin/env python3
"""Writes telling_2023_2024.events.jsonl: 17 jongeren that together exercise
every column of the leerplichttelling (docs/TELLING.md). The expected figures
are computed by hand in services/signaling/telling/tests/telling_test.cc.
A jongere known only from a vrijstelling also gets a BRP verhuizing on the same
day, so its woongemeente does not depend on how the vrijstelling's granting
gemeente is weighed."""
import json

def bsn(n):
    # 9 digits, weighted sum (9..2 for the first 8, -1 for the 9th) = 0 mod 11.
    while True:
        d = [int(c) for c in f"{n:08d}"]
        s = sum(w * x for w, x in zip(range(9, 1, -1), d)) % 11
        if s < 10:
            return f"{n:08d}{s}"
        n += 1

out = []
def ins(j, id, datum, brin="05KO", soort="ONDERWIJSSOORT_VO", uit=None, reden="UITSCHRIJFREDEN_VERWIJDERING"):
    m = {"mutatieId": id, "bron": brin, "leerling": {"bsn": j["bsn"]}, "geboortedatum": j["geb"], "brin": brin,
         "woongemeente": j["gem"], "soort": "MUTATIE_SOORT_UITSCHRIJVING" if uit else "MUTATIE_SOORT_INSCHRIJVING",
         "ingangsdatum": datum, "onderwijssoort": soort}
    if uit:
        m["uitschrijfreden"] = reden
    out.append({"inschrijvingsmutatie": m})
def adres(j, id, soort, datum, gem=""):
    m = {"mutatieId": id, "bron": "BRP", "leerling": {"bsn": j["bsn"]}, "geboortedatum": j["geb"],
         "soort": soort, "ingangsdatum": datum}
    if gem:
        m["gemeente"] = gem
    out.append({"adresmutatie": m})
def vrij(j, id, art, van, tot=""):
    v = {"id": id, "bron": j["gem"], "leerling": {"bsn": j["bsn"]}, "geboortedatum": j["geb"], "artikel": art,
         "van": van, "gemeente": j["gem"]}
    if tot:
        v["tot"] = tot
    out.append({"vrijstelling": v})
def melding(j, id, soort, datum, begin, eind=""):
    m = {"meldingId": id, "bron": "05KO", "leerling": {"bsn": j["bsn"]}, "geboortedatum": j["geb"], "brin": "05KO",
         "woongemeente": j["gem"], "soort": soort, "meldingsdatum": datum, "begindatum": begin,
         "verzuimUren": 16, "verzuimDagen": 4, "schoolActie": "SCHOOL_ACTIE_GESPREK_OUDERS"}
    if eind:
        m["einddatum"] = eind
    out.append({"verzuimmelding": m})

def J(n, geb, gem):
    return {"bsn": bsn(10000000 + n * 1013), "geb": geb, "gem": gem}

j1 = J(1, "2010-03-15", "0363")   # AV 2023-10-08, uit beeld, langdurig, opgelost inschrijving after 123 days
ins(j1, "j1-i0", "2022-08-01"); ins(j1, "j1-u1", "2023-09-30", uit=True); ins(j1, "j1-i1", "2024-02-01", brin="07NU")
j2 = J(2, "2010-03-15", "0363")   # AV, opgelost inschrijving after 19 days
ins(j2, "j2-i0", "2022-08-01"); ins(j2, "j2-u1", "2023-11-30", uit=True); ins(j2, "j2-i1", "2023-12-20", brin="07NU")
j3 = J(3, "2010-03-15", "0599")   # AV, opgelost vrijstelling 5 onder b after 43 days
ins(j3, "j3-i0", "2022-08-01"); ins(j3, "j3-u1", "2024-01-31", uit=True)
vrij(j3, "j3-v1", "VRIJSTELLING_ARTIKEL_5_ONDER_B", "2024-03-15")
j4 = J(4, "2006-05-20", "0599")   # kwalificatieplichtig: AV, uit beeld, langdurig, 18 after 109 days
ins(j4, "j4-i0", "2022-08-01", soort="ONDERWIJSSOORT_MBO")
ins(j4, "j4-u1", "2024-01-31", soort="ONDERWIJSSOORT_MBO", uit=True)
j5 = J(5, "2010-03-15", "0363")   # AV, emigratie after 19 days
ins(j5, "j5-i0", "2022-08-01"); ins(j5, "j5-u1", "2024-02-29", uit=True)
adres(j5, "j5-a1", "ADRES_MUTATIE_SOORT_EMIGRATIE", "2024-03-20")
j6 = J(6, "2010-03-15", "0363")   # AV, overlijden after 14 days
ins(j6, "j6-i0", "2022-08-01"); ins(j6, "j6-u1", "2024-04-30", uit=True)
adres(j6, "j6-a1", "ADRES_MUTATIE_SOORT_OVERLIJDEN", "2024-05-15")
j7 = J(7, "2010-03-15", "0501")   # Brielle (merged into Voorne aan Zee 1992): AV open on 31 July
ins(j7, "j7-i0", "2022-08-01"); ins(j7, "j7-u1", "2024-06-15", uit=True)
j8 = J(8, "2010-03-15", "0363")   # VOW: uit beeld, still on 31 July
ins(j8, "j8-i0", "2022-08-01")
adres(j8, "j8-a1", "ADRES_MUTATIE_SOORT_VERTROKKEN_ONBEKEND_WAARHEEN", "2024-03-10")
j9 = J(9, "2010-03-15", "0363")   # two chaining 16-uur meldingen (LRV), luxe, overig
ins(j9, "j9-i0", "2022-08-01")
melding(j9, "j9-m1", "VERZUIM_SOORT_16_UUR_IN_4_WEKEN", "2023-10-15", "2023-10-01", "2023-10-14")
melding(j9, "j9-m2", "VERZUIM_SOORT_16_UUR_IN_4_WEKEN", "2023-11-05", "2023-10-15", "2023-11-04")
melding(j9, "j9-m3", "VERZUIM_SOORT_LUXE", "2024-01-10", "2024-01-08", "2024-01-09")
melding(j9, "j9-m4", "VERZUIM_SOORT_OVERIG", "2024-02-10", "2024-02-01")
j10 = J(10, "2010-03-15", "0363")  # LRV melding
ins(j10, "j10-i0", "2022-08-01")
melding(j10, "j10-m1", "VERZUIM_SOORT_LANGDURIG_RELATIEF_VERZUIM", "2024-03-01", "2024-01-15")
j11 = J(11, "2005-01-20", "0599")  # 18-plus melding
ins(j11, "j11-i0", "2022-08-01", soort="ONDERWIJSSOORT_MBO")
melding(j11, "j11-m1", "VERZUIM_SOORT_18_PLUS", "2023-11-01", "2023-10-01")
j12 = J(12, "2010-03-15", "0363")  # vrijstelling 5 onder a to 2024-03-31: loopt af, then AV open, langdurig, uit beeld
adres(j12, "j12-a1", "ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND", "2023-09-01", "0363")
vrij(j12, "j12-v1", "VRIJSTELLING_ARTIKEL_5_ONDER_A", "2023-09-01", "2024-03-31")
j13 = J(13, "2010-03-15", "0599")  # vrijstelling 5 onder c since 2022: active, not new
adres(j13, "j13-a1", "ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND", "2022-01-01", "0599")
vrij(j13, "j13-v1", "VRIJSTELLING_ARTIKEL_5_ONDER_C", "2022-01-01")
j14 = J(14, "2010-03-15", "0363")  # art. 5a (trekkend bestaan), new
adres(j14, "j14-a1", "ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND", "2023-08-15", "0363")
vrij(j14, "j14-v1", "VRIJSTELLING_ARTIKEL_5A", "2023-08-15")
j15 = J(15, "2006-10-01", "0599")  # art. 15 during kwalificatieplicht: active and new
adres(j15, "j15-a1", "ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND", "2023-10-01", "0599")
vrij(j15, "j15-v1", "VRIJSTELLING_ARTIKEL_15", "2023-10-01")
j16 = J(16, "2010-03-15", "0363")  # art. 15 during volledige leerplicht: new, never active
ins(j16, "j16-i0", "2022-08-01")
vrij(j16, "j16-v1", "VRIJSTELLING_ARTIKEL_15", "2023-10-01")

j17 = J(17, "2010-03-15", "0599")  # vrijstelling 5 onder c (school abroad) from July 2024: new and active
adres(j17, "j17-a1", "ADRES_MUTATIE_SOORT_VERHUIZING_BINNENLAND", "2024-07-01", "0599")
vrij(j17, "j17-v1", "VRIJSTELLING_ARTIKEL_5_ONDER_C", "2024-07-01")

with open("telling_2023_2024.events.jsonl", "w") as f:
    for e in out:
        f.write(json.dumps(e, separators=(",", ":")) + "\n")

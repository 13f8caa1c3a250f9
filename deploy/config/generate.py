#!/usr/bin/python3
"""Derives the default organisation table (organisaties.csv) from gemeenten.csv.

Usage:  /usr/bin/python3 deploy/config/generate.py [DIR]   (DIR defaults to this folder)

Default (DOMAIN.md §4): every gemeente's leerplicht organisation is its RMC-regio
(id "rmc-<n>", name "RMC-regio <rmc_regio_naam>"), the 18-plus organisation
(Leerplichtwet art. 4a/4b, RMC / Doorstroompunt) is the same RMC-regio, and the
rows are valid without bounds. The OIN is a placeholder ("9999..." + the region
number, 20 digits): a deployment replaces this table with its own, with the real
OINs from its organisations' PKIoverheid certificates.

The regions are read from the data, never assumed to be 39: a deployment that uses
the newer indeling (region 40, Rijk van Nijmegen) only edits gemeenten.csv.
Output is sorted by gemeentecode, so regenerating is deterministic.
"""
import csv
import os
import re
import sys

COLUMNS = ["gemeentecode", "organisatie_id", "organisatie_naam", "oin", "geldig_van",
           "geldig_tot", "achttien_plus_organisatie_id"]
CODE = re.compile(r"^\d{4}$")


def placeholder_oin(regio: int) -> str:
    return f"9999{regio:016d}"


def main() -> int:
    folder = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    with open(os.path.join(folder, "gemeenten.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    names = {}
    out = []
    for line, row in enumerate(rows, start=2):
        code = row["gemeentecode"]
        if not CODE.match(code):
            print(f"gemeenten.csv:{line}: gemeentecode {code!r} is not 4 digits", file=sys.stderr)
            return 1
        try:
            regio = int(row["rmc_regio"])
        except ValueError:
            print(f"gemeenten.csv:{line}: rmc_regio {row['rmc_regio']!r} is not a number",
                  file=sys.stderr)
            return 1
        naam = row["rmc_regio_naam"].strip()
        if names.setdefault(regio, naam) != naam:
            print(f"gemeenten.csv:{line}: region {regio} has two names ({names[regio]!r}, {naam!r})",
                  file=sys.stderr)
            return 1
        org = f"rmc-{regio}"
        out.append({"gemeentecode": code, "organisatie_id": org,
                    "organisatie_naam": f"RMC-regio {naam}", "oin": placeholder_oin(regio),
                    "geldig_van": "", "geldig_tot": "", "achttien_plus_organisatie_id": org})

    out.sort(key=lambda r: r["gemeentecode"])
    target = os.path.join(folder, "organisaties.csv")
    tmp = target + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    os.replace(tmp, target)
    print(f"organisaties.csv: {len(out)} gemeenten, {len(names)} organisations")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks that the promtool unit tests cover every alert both ways.

Usage: check_alert_coverage.py ALERTS_YML ALERTS_TEST_YML
Every `- alert: NAME` in the rule file needs, in the test file, at least one
alert_rule_test with `alertname: NAME` and a non-empty exp_alerts (it fires)
and one with `exp_alerts: []` (it stays quiet). promtool itself only checks
the cases that exist; this catches an alert nobody wrote a case for.
Plain-text parsing on purpose: no PyYAML needed on a bare Debian.
"""
import re
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        alerts = re.findall(r"^\s*-\s*alert:\s*(\S+)\s*$", f.read(), re.M)
    with open(argv[2], encoding="utf-8") as f:
        lines = f.read().splitlines()
    fires, quiet = set(), set()
    for i, line in enumerate(lines):
        m = re.match(r"\s*-?\s*alertname:\s*(\S+)\s*$", line)
        if not m:
            continue
        name = m.group(1)
        for nxt in lines[i + 1:i + 4]:
            e = re.match(r"\s*exp_alerts:\s*(.*?)\s*(#.*)?$", nxt)
            if e:
                (quiet if e.group(1) == "[]" else fires).add(name)
                break
    if not alerts:
        print(f"{argv[1]}: no alerts found")
        return 1
    problems = []
    for a in alerts:
        if a not in fires:
            problems.append(f"alert {a}: no test case where it fires")
        if a not in quiet:
            problems.append(f"alert {a}: no test case where it stays quiet")
    for name in sorted((fires | quiet) - set(alerts)):
        problems.append(f"test names alert {name}, which alerts.yml does not define")
    for p in problems:
        print(p)
    print(f"{len(alerts)} alerts, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

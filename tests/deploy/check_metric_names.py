#!/usr/bin/env python3
"""Checks that every PromQL expression in the Grafana dashboards and the alert
rules uses only documented metric names (tests/deploy/metric_names.txt).

Usage: check_metric_names.py METRIC_NAMES_TXT FILE...   (*.json dashboards,
*.yml/*.yaml Prometheus rule files). Exit 1 with one line per problem.

The PromQL "parser" is a small lexer, enough for the expressions we write:
label matchers, grouping clauses, ranges and strings are removed first; what
is left is a metric name unless it is a keyword, a function call or a number.
"""
import json
import re
import sys

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "inf", "nan", "atan2",
}
HIST_SUFFIXES = ("_bucket", "_sum", "_count")


def load_names(path):
    names, histograms = set(), set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            names.add(line[0])
            if len(line) > 1 and line[1] == "histogram":
                histograms.add(line[0])
    return names, histograms


def metric_names(expr):
    """Yields the metric names an expression selects."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)  # strings
    e = re.sub(r"\$\{?\w+\}?", "1m", e)                                 # Grafana variables
    e = re.sub(r"\{[^}]*\}", " ", e)                                    # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                                   # ranges/subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\boffset\s+\d+[smhdwy]\b", " ", e)
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if word.lower() in KEYWORDS or rest.startswith("("):
            continue
        # Durations and numbers like 1e3 are not identifiers we care about.
        if re.fullmatch(r"\d*[smhdwy]", word):
            continue
        yield word


def check_name(name, names, histograms):
    if name in names:
        return True
    for suffix in HIST_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in histograms:
            return True
    return False


def dashboard_exprs(path):
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)

    def walk(node, where):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                yield where, node["expr"]
            if isinstance(node.get("query"), str) and node.get("type") == "query":
                yield where, node["query"]
            for key, value in node.items():
                title = node.get("title", where) if key in ("targets", "panels") else where
                yield from walk(value, title)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, where)

    yield from walk(dash, "dashboard")


def rule_exprs(path):
    # Avoid a PyYAML dependency: rule files keep `expr:` as a block scalar
    # (|) or a single line; read both forms.
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    alert = "?"
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*-?\s*(alert|record):\s*(\S+)", line)
        if m:
            alert = m.group(2)
        m = re.match(r"(\s*)expr:\s*(.*)$", line)
        if m:
            indent, value = len(m.group(1)), m.group(2).strip()
            if value in ("|", ">", "|-", ">-"):
                body = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or
                                          len(lines[i]) - len(lines[i].lstrip()) > indent):
                    body.append(lines[i].strip())
                    i += 1
                yield alert, " ".join(body)
                continue
            yield alert, value.strip("'\"")
        i += 1


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    names, histograms = load_names(argv[1])
    problems, checked = [], 0
    for path in argv[2:]:
        exprs = dashboard_exprs(path) if path.endswith(".json") else rule_exprs(path)
        for where, expr in exprs:
            checked += 1
            for name in metric_names(expr):
                if not check_name(name, names, histograms):
                    problems.append(f"{path}: {where}: undocumented metric '{name}' in: {expr}")
    for p in problems:
        print(p)
    if checked == 0:
        print("no expressions found: is the input right?")
        return 1
    print(f"checked {checked} expressions, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

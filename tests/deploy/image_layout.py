"""What the InBeeld image ships, read from deploy/Dockerfile itself, and which
file each service reads. The one source for the deploy checks
(check_config_files.py) and the image-layout start test (image_start_test.py):
a file added to the Dockerfile is what they test, so the list cannot drift.

Only the runtime stage counts (from `FROM ... AS runtime` on). COPY lines with
--from copy build output (the binaries), the others ship files of the
repository: (source relative to the build context, destination in the image).
"""
import json
import os
import re
import shlex

# The files each service reads, by flag: flag -> default file name, resolved
# against --config-dir / INBEELD_CONFIG_DIR (docs/OPERATIONS.md). ingest needs
# bronnen.csv only with TLS (client certificate -> bron); signaling's
# organisaties/herindelingen feed TellingService.
SERVICE_FILES = {
    "ingest": {"bronnen": "bronnen.csv"},
    "signaling": {"organisaties": "organisaties.csv", "herindelingen": "herindelingen.csv"},
    "routing": {"organisaties": "organisaties.csv", "herindelingen": "herindelingen.csv"},
    "delivery": {"organisaties": "organisaties.csv"},
}
SERVICES = tuple(SERVICE_FILES)
# Files a service can start without. None: every file is checked before
# anything starts, and a missing one is exit 2 (signaling needs its tables
# for TellingService).
OPTIONAL_FILES = set()


def env_name(flag):
    return "INBEELD_" + flag.upper().replace("-", "_")


class Layout:
    def __init__(self):
        self.files = []   # (source, destination file path in the image)
        self.env = {}
        self.workdir = "/"
        self.user = None
        self.cmd = []
        self.entrypoint = []

    def config_dir(self):
        return self.env.get("INBEELD_CONFIG_DIR")

    def data_dir(self):
        return self.env.get("INBEELD_DATA_DIR")

    def shipped(self, dest):
        """The source of the file the image has at dest, or None."""
        for src, d in self.files:
            if d == dest:
                return src
        return None


def _logical_lines(text):
    """Dockerfile lines with continuations joined and comments dropped."""
    out, cur = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") and not cur:
            continue
        if stripped.startswith("#"):  # a comment inside a continuation
            continue
        if stripped.endswith("\\"):
            cur += stripped[:-1] + " "
            continue
        cur += stripped
        if cur:
            out.append(cur)
        cur = ""
    if cur:
        out.append(cur)
    return out


def parse_dockerfile(path):
    """The runtime stage of a Dockerfile as a Layout. Raises ValueError when
    the Dockerfile has no runtime stage or a COPY we cannot read."""
    with open(path, encoding="utf-8") as f:
        lines = _logical_lines(f.read())
    layout, in_runtime = Layout(), False
    for line in lines:
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            in_runtime = bool(re.search(r"\bAS\s+runtime\s*$", rest, re.IGNORECASE))
            continue
        if not in_runtime:
            continue
        if word == "COPY":
            args = shlex.split(rest)
            if any(a.startswith("--from") for a in args):
                continue
            args = [a for a in args if not a.startswith("--")]
            if len(args) < 2:
                raise ValueError(f"cannot read: {line}")
            *sources, dest = args
            if len(sources) > 1 and not dest.endswith("/"):
                raise ValueError(f"COPY of several files needs a directory ending in '/': {line}")
            for src in sources:
                if any(c in src for c in "*?["):
                    raise ValueError(f"name every shipped file, no wildcards: {line}")
                target = dest + os.path.basename(src) if dest.endswith("/") else dest
                layout.files.append((src, target))
        elif word == "ENV":
            for item in shlex.split(rest):
                if "=" not in item:
                    raise ValueError(f"use ENV KEY=VALUE: {line}")
                key, value = item.split("=", 1)
                layout.env[key] = value
        elif word == "WORKDIR":
            layout.workdir = rest.strip()
        elif word == "USER":
            layout.user = rest.strip()
        elif word == "ENTRYPOINT":
            layout.entrypoint = json.loads(rest)
        elif word == "CMD":
            layout.cmd = json.loads(rest) if rest.strip().startswith("[") else ["/bin/sh", "-c", rest]
    if not in_runtime and not layout.files:
        raise ValueError(f"{path}: no 'FROM ... AS runtime' stage")
    return layout


def default_path(layout, flag):
    """Where a service looks for the file of --flag in the image, when nothing
    overrides it."""
    for files in SERVICE_FILES.values():
        if flag in files:
            return os.path.join(layout.config_dir() or "", files[flag])
    raise KeyError(flag)

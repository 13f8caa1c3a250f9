#!/usr/bin/env python3
"""Every file a service reads is there, where the service looks for it, in the
image, in docker-compose.yml and in the kustomize base (issue #15).

  check_config_files.py dockerfile|compose|k8s|self-test   (from the repository root)

Which service reads which file: image_layout.SERVICE_FILES. Where it looks:
--<flag>=PATH in the command/args, else INBEELD_<FLAG>, else the default file
name; a relative path resolves against the config directory (--config-dir,
INBEELD_CONFIG_DIR, the image's ENV). What is there: the volume mounted at the
longest prefix of that path (a bind-mounted repository directory, a ConfigMap
key), else the file the image's COPY lines ship. self-test: each check fails on
a deliberately broken copy of the real files. Exit 1 with one line per problem.
"""
import copy
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image_layout  # noqa: E402

DOCKERFILE = "deploy/Dockerfile"
COMPOSE = "deploy/docker-compose.yml"
K8S = "deploy/k8s"
PER_FILE_ENV = sorted({image_layout.env_name(f) for files in image_layout.SERVICE_FILES.values() for f in files}
                      | {"INBEELD_STATE_DIR"})


def check_dockerfile(layout, exists=os.path.exists):
    problems = []
    cdir, ddir = layout.config_dir(), layout.data_dir()
    if not cdir:
        problems.append(f"{DOCKERFILE}: runtime stage sets no ENV INBEELD_CONFIG_DIR")
    if not ddir:
        problems.append(f"{DOCKERFILE}: runtime stage sets no ENV INBEELD_DATA_DIR")
    for key in PER_FILE_ENV:
        if key in layout.env:
            problems.append(f"{DOCKERFILE}: ENV {key} (the default under INBEELD_CONFIG_DIR/INBEELD_DATA_DIR covers it)")
    for svc, files in image_layout.SERVICE_FILES.items():
        for flag, name in files.items():
            dest = os.path.join(cdir or "", name)
            if not layout.shipped(dest):
                problems.append(f"{DOCKERFILE}: {svc} reads --{flag} ({dest}), the image does not ship it")
    for src, dest in layout.files:
        if not exists(src):
            problems.append(f"{DOCKERFILE}: COPY {src} -> {dest}: no such file in the repository")
    return problems


def _flag_value(argv, flag):
    for arg in argv or []:
        if arg.startswith(f"--{flag}="):
            return arg.split("=", 1)[1]
    return None


def wanted_path(layout, argv, env, flag):
    """Where the service started with argv/env looks for the file of --flag."""
    value = _flag_value(argv, flag) or env.get(image_layout.env_name(flag))
    if value is None:
        value = next(files[flag] for files in image_layout.SERVICE_FILES.values() if flag in files)
    cdir = _flag_value(argv, "config-dir") or env.get("INBEELD_CONFIG_DIR") or layout.config_dir() or ""
    return os.path.normpath(os.path.join(cdir, value))


def _under(path, target):
    target = target.rstrip("/") or "/"
    return path == target or path.startswith(target.rstrip("/") + "/")


def image_provides(layout, path, exists):
    src = layout.shipped(path)
    if src is None:
        return f"not mounted and not in the image ({DOCKERFILE} ships {[d for _, d in layout.files]})"
    if not exists(src):
        return f"the image's copy comes from {src}, which does not exist"
    return None


# ---- docker-compose ---------------------------------------------------------

def compose_mounts(svc):
    mounts = []
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            mounts.append((v.get("source", ""), v["target"], v.get("type", "volume")))
        else:
            parts = v.split(":")
            src, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
            kind = "bind" if src.startswith((".", "/", "~")) else "volume"
            mounts.append((src, target, kind))
    return mounts


def check_compose(compose, layout, base_dir, exists=os.path.exists):
    problems, seen = [], set()
    for name, svc in (compose.get("services") or {}).items():
        argv = svc.get("command") or []
        if not argv or not str(argv[0]).startswith("inbeeld-"):
            continue
        service = argv[0][len("inbeeld-"):]
        if service not in image_layout.SERVICE_FILES:
            continue
        seen.add(service)
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) for e in env)
        for flag in image_layout.SERVICE_FILES[service]:
            path = wanted_path(layout, argv, env, flag)
            mounts = [m for m in compose_mounts(svc) if _under(path, m[1])]
            where = f"{COMPOSE}: service {name} reads --{flag} at {path}"
            if not mounts:
                why = image_provides(layout, path, exists)
                if why:
                    problems.append(f"{where}: {why}")
                continue
            src, target, kind = max(mounts, key=lambda m: len(m[1]))
            if kind != "bind":
                problems.append(f"{where}: it lies in volume '{src}' mounted at {target}, which nothing fills with it")
                continue
            host = os.path.normpath(os.path.join(base_dir, src, os.path.relpath(path, target)))
            if not exists(host):
                problems.append(f"{where}: the bind mount {src}:{target} has no {os.path.relpath(host, base_dir)}")
    for service in image_layout.SERVICES:
        if service not in seen:
            problems.append(f"{COMPOSE}: no service runs inbeeld-{service}")
    return problems


# ---- kustomize ----------------------------------------------------------------

def load_kustomize(k8s_dir):
    with open(os.path.join(k8s_dir, "kustomization.yaml")) as f:
        kust = yaml.safe_load(f)
    docs = []
    for res in kust.get("resources") or []:
        with open(os.path.join(k8s_dir, res)) as f:
            docs.extend(d for d in yaml.safe_load_all(f) if d)
    return kust, docs


def _generated(kust, key):
    """configMapGenerator/secretGenerator: name -> {key: local file or None (literal)}."""
    out = {}
    for gen in kust.get(key) or []:
        entries = out.setdefault(gen["name"], {})
        for f in gen.get("files") or []:
            k, _, p = f.partition("=")
            entries[k if p else os.path.basename(f)] = p or f
        for lit in gen.get("literals") or []:
            entries[lit.split("=", 1)[0]] = None
    return out


def _literals(kust, name):
    for gen in kust.get("configMapGenerator") or []:
        if gen["name"] == name:
            return dict(lit.split("=", 1) for lit in gen.get("literals") or [])
    return {}


def check_k8s(kust, docs, layout, k8s_dir, exists=os.path.exists):
    problems, seen = [], set()
    config_maps = _generated(kust, "configMapGenerator")
    for doc in docs:
        if doc.get("kind") not in ("Deployment", "StatefulSet"):
            continue
        spec = doc["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        claims = {c["metadata"]["name"] for c in doc["spec"].get("volumeClaimTemplates") or []}
        for c in spec.get("containers") or []:
            argv = (c.get("command") or []) + (c.get("args") or [])
            if not argv or not str(argv[0]).startswith("inbeeld-"):
                continue
            service = argv[0][len("inbeeld-"):]
            if service not in image_layout.SERVICE_FILES:
                continue
            seen.add(service)
            env = {}
            for src in c.get("envFrom") or []:
                if "configMapRef" in src:
                    env.update(_literals(kust, src["configMapRef"]["name"]))
            env.update({e["name"]: e.get("value", "") for e in c.get("env") or [] if "value" in e})
            for flag in image_layout.SERVICE_FILES[service]:
                path = wanted_path(layout, argv, env, flag)
                where = f"{K8S}: {doc['metadata']['name']} reads --{flag} at {path}"
                mounts = [m for m in c.get("volumeMounts") or [] if _under(path, m["mountPath"])]
                if not mounts:
                    why = image_provides(layout, path, exists)
                    if why:
                        problems.append(f"{where}: {why}")
                    continue
                m = max(mounts, key=lambda m: len(m["mountPath"]))
                vol = volumes.get(m["name"])
                rel = os.path.relpath(path, m["mountPath"])
                if vol is None or "configMap" not in vol:
                    kind = "volume claim" if m["name"] in claims else "volume"
                    problems.append(f"{where}: it lies in {kind} '{m['name']}' at {m['mountPath']}, not a ConfigMap")
                    continue
                key = m.get("subPath") or rel
                items = vol["configMap"].get("items")
                if items:
                    by_path = {i["path"]: i["key"] for i in items}
                    key = by_path.get(key)
                cm = vol["configMap"]["name"]
                if cm not in config_maps:
                    problems.append(f"{where}: ConfigMap {cm} is not generated by kustomization.yaml")
                elif key is None or key not in config_maps[cm]:
                    problems.append(f"{where}: ConfigMap {cm} (at {m['mountPath']}) has no key {rel}")
                elif config_maps[cm][key] and not exists(os.path.join(k8s_dir, config_maps[cm][key])):
                    problems.append(f"{where}: ConfigMap {cm} key {key}: {config_maps[cm][key]} does not exist")
    for service in image_layout.SERVICES:
        if service not in seen:
            problems.append(f"{K8S}: no workload runs inbeeld-{service}")
    return problems


# ---- main ---------------------------------------------------------------------

def load_compose():
    with open(COMPOSE) as f:
        return yaml.safe_load(f)


def self_test(layout):
    """Each check must fail on a broken copy: otherwise it checks nothing."""
    failures = []

    def expect_fail(what, problems, needle):
        if not any(needle in p for p in problems):
            failures.append(f"self-test: {what} was not detected (got {problems})")
        else:
            print(f"self-test: detected {what}")

    broken = copy.deepcopy(layout)
    broken.files = [(s, d) for s, d in broken.files if not d.endswith("/bronnen.csv")]
    expect_fail("an image without bronnen.csv", check_dockerfile(broken), "bronnen")
    broken = copy.deepcopy(layout)
    broken.env["INBEELD_ORGANISATIES"] = "/etc/inbeeld/organisaties.csv"
    expect_fail("a per-file ENV in the image", check_dockerfile(broken), "INBEELD_ORGANISATIES")
    broken = copy.deepcopy(layout)
    broken.files = [(s + ".missing", d) for s, d in broken.files]
    expect_fail("a COPY source that does not exist", check_dockerfile(broken), "no such file")

    compose = load_compose()
    base = os.path.dirname(COMPOSE)
    c = copy.deepcopy(compose)
    c["services"]["ingest"].setdefault("environment", {})["INBEELD_BRONNEN"] = "/nergens/bronnen.csv"
    expect_fail("compose ingest pointed at a file nothing provides", check_compose(c, layout, base), "--bronnen")
    c = copy.deepcopy(compose)
    c["services"]["routing"]["volumes"] = [v.replace("./config:", "./prometheus:") for v in c["services"]["routing"]["volumes"]]
    expect_fail("compose routing mounting a directory without its tables", check_compose(c, layout, base),
                "has no prometheus/organisaties.csv")
    c = copy.deepcopy(compose)
    c["services"]["signaling"]["volumes"] = [v.replace("./config:/etc/inbeeld:ro", "signaling-state:/etc/inbeeld")
                                             for v in c["services"]["signaling"]["volumes"]]
    expect_fail("compose hiding the tables under a named volume", check_compose(c, layout, base), "nothing fills")

    kust, docs = load_kustomize(K8S)
    k = copy.deepcopy(kust)
    for gen in k["configMapGenerator"]:
        gen["files"] = [f for f in gen.get("files") or [] if not f.endswith("bronnen.csv")]
    expect_fail("a ConfigMap over /etc/inbeeld without bronnen.csv", check_k8s(k, docs, layout, K8S), "no key bronnen.csv")
    d = copy.deepcopy(docs)
    for doc in d:
        if doc.get("kind") == "StatefulSet" and doc["metadata"]["name"] == "inbeeld-routing":
            c0 = doc["spec"]["template"]["spec"]["containers"][0]
            c0.setdefault("env", []).append({"name": "INBEELD_HERINDELINGEN", "value": "/var/lib/inbeeld/h.csv"})
    expect_fail("k8s routing reading a table from its state volume", check_k8s(kust, d, layout, K8S), "not a ConfigMap")
    return failures


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("dockerfile", "compose", "k8s", "self-test"):
        print(__doc__, file=sys.stderr)
        return 2
    layout = image_layout.parse_dockerfile(DOCKERFILE)
    what = sys.argv[1]
    if what == "dockerfile":
        problems = check_dockerfile(layout)
    elif what == "compose":
        problems = check_compose(load_compose(), layout, os.path.dirname(COMPOSE))
    elif what == "k8s":
        kust, docs = load_kustomize(K8S)
        problems = check_k8s(kust, docs, layout, K8S)
    else:
        problems = self_test(layout)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    if not problems:
        files = ", ".join(f"{s} -> {d}" for s, d in layout.files)
        print(f"{what}: every service finds every file it reads (image ships: {files})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Environment build (guest side): `python3 envbuild.py PLAN.json`, run by sandbox.envbuild in a
build sandbox (network on for this step only, as the sandbox uid) with the repository as the
working directory. It imports nothing of ouro and runs on every Python the sandbox may use.

1. pip: the interpreter's own when it has `--dry-run --report` (22.2+), else a newer pip
   installed into a scratch directory with whatever pip there is (or ensurepip's wheel).
2. Resolve what a developer installs: the plan's requirement files and strings, the test
   runner when the interpreter lacks it, and the project's own metadata with its test extras
   (`.[test,tests,testing]`, or `.[dev]` when it has none of those) when only running its
   build backend tells its dependencies (setup.py). `pip install --dry-run --report` only
   prepares metadata: nothing of the project is built or installed. If the project's metadata
   cannot be prepared, the rest is resolved without it and a note says why.
3. Refuse a direct reference (a URL, a VCS checkout, a local path) that the plan does not allow:
   the host checked the files it can read, this catches what setup.py computes.
4. Install exactly the resolved artifacts (`name @ url`), without dependencies and never the
   project itself, into the plan's target directory.

The last stdout line is one JSON object: {"ok", "error", "installed": [[name, version]], "notes"}.
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import sysconfig

TEST_EXTRAS = ("test", "tests", "testing")
DEV_EXTRAS = ("dev",)
SCRATCH = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ouro-build")
NEW_PIP = "pip>=22.2"   # --dry-run and --report


def say(obj) -> None:
    sys.stdout.write("\n" + json.dumps(obj) + "\n")
    sys.stdout.flush()


def tail(text: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip() and not ln.startswith("WARNING")]
    return " | ".join(lines[-n:])[-600:]


def run(cmd, env, timeout=None):
    return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout)


def pip_version(env):
    p = run([sys.executable, "-c", "import pip; print(pip.__version__)"], env)
    if p.returncode != 0:
        return None
    parts = []
    for x in p.stdout.strip().split(".")[:2]:
        digits = "".join(c for c in x if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def ensure_pip(env):
    """An environment in which `python -m pip` has --dry-run and --report."""
    have = pip_version(env)
    if have is not None and have >= (22, 2):
        return env
    tools = os.path.join(SCRATCH, "pip")
    boot = dict(env)
    if have is None:   # no pip at all: the wheel ensurepip carries, run in place
        wheels = glob.glob(os.path.join(sysconfig.get_paths()["stdlib"], "ensurepip", "_bundled", "pip-*.whl"))
        if not wheels:
            raise SystemExit("this Python has no pip and no ensurepip wheel to start one from")
        boot["PYTHONPATH"] = wheels[0]
    p = run([sys.executable, "-m", "pip", "install", "--quiet", "--target", tools, NEW_PIP], boot)
    if p.returncode != 0:
        raise SystemExit("could not install a pip with --dry-run: " + tail(p.stderr))
    out = dict(env)
    out["PYTHONPATH"] = tools
    return out


def resolve(env, args, report):
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", report]
    return run(cmd + args, env)


def project_item(items, workdir):
    here = "file://" + os.path.abspath(workdir).rstrip("/")
    for item in items:
        url = (item.get("download_info") or {}).get("url", "").rstrip("/")
        if url == here and "dir_info" in (item.get("download_info") or {}):
            return item
    return None


def direct_url(item) -> str:
    """A PEP 508 direct reference for exactly the artifact pip resolved."""
    info = item.get("download_info") or {}
    url = info.get("url", "")
    vcs = info.get("vcs_info")
    if vcs:
        return "%s+%s@%s" % (vcs.get("vcs", "git"), url, vcs.get("commit_id", ""))
    hashes = (info.get("archive_info") or {}).get("hashes") or {}
    if "sha256" in hashes and "#" not in url:
        url += "#sha256=" + hashes["sha256"]
    return url


def main(argv) -> int:
    with open(argv[1]) as f:
        plan = json.load(f)
    notes = []
    env = dict(os.environ)
    want = tuple(plan.get("python") or sys.version_info[:2])
    if tuple(sys.version_info[:2]) != want:   # resolving for another Python would pick wrong wheels
        say({"ok": False, "error": "the build ran on Python %d.%d, not %d.%d" % (sys.version_info[:2] + want),
             "installed": [], "notes": notes})
        return 1
    try:
        os.makedirs(SCRATCH, exist_ok=True)
        env = ensure_pip(env)
    except SystemExit as e:
        say({"ok": False, "error": str(e), "installed": [], "notes": notes})
        return 1
    base = []
    for rf in plan.get("requirement_files", []):
        base += ["-r", rf]
    base += list(plan.get("requirements", [])) + list(plan.get("runner", []))
    report = os.path.join(SCRATCH, "report.json")
    items = None
    if plan.get("project"):
        extras = list(plan.get("extras") or TEST_EXTRAS)
        p = resolve(env, base + [".[%s]" % ",".join(extras)], report)
        if p.returncode == 0:
            with open(report) as f:
                items = json.load(f).get("install", [])
            me = project_item(items, ".")
            provided = set((me or {}).get("metadata", {}).get("provides_extra") or [])
            if me is not None and not provided & set(TEST_EXTRAS) and provided & set(DEV_EXTRAS):
                p = resolve(env, base + [".[dev]"], report)
                if p.returncode == 0:
                    with open(report) as f:
                        items = json.load(f).get("install", [])
                    notes.append("the project has no test extra: installed its dev extra")
        else:
            notes.append("the project's own dependencies could not be read (its metadata failed to build): "
                         + tail(p.stderr, 2))
    if items is None:
        if not base:
            items = []
        else:
            p = resolve(env, base, report)
            if p.returncode != 0:
                say({"ok": False, "error": "pip could not resolve the dependencies: " + tail(p.stderr),
                     "installed": [], "notes": notes})
                return 1
            with open(report) as f:
                items = json.load(f).get("install", [])
    me = project_item(items, ".")
    wanted = [i for i in items if i is not me]
    outside = [i for i in wanted if i.get("is_direct")]
    if outside and not plan.get("allow_external"):
        first = outside[0]
        say({"ok": False, "refused": True, "installed": [], "notes": notes,
             "error": "%s comes from %s, outside the package index; refused (pass --allow-external-deps to build "
                      "it inside the sandbox)" % (first["metadata"].get("name"), (first.get("download_info") or {}).get("url"))})
        return 1
    out = plan["out"]
    os.makedirs(out, exist_ok=True)
    if wanted:
        lines = ["%s @ %s" % (i["metadata"]["name"], direct_url(i)) for i in wanted]
        reqs = os.path.join(SCRATCH, "resolved.txt")
        with open(reqs, "w") as f:
            f.write("\n".join(lines) + "\n")
        p = run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed",
                 "--no-warn-script-location", "--target", out, "-r", reqs], env)
        if p.returncode != 0:
            say({"ok": False, "error": "pip could not install the dependencies: " + tail(p.stderr),
                 "installed": [], "notes": notes})
            return 1
    say({"ok": True, "error": "", "notes": notes,
         "installed": [[i["metadata"]["name"], i["metadata"]["version"]] for i in wanted]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Which installed pytest plugins keep the pytest installed beside them from starting.

`python -I -S pytest_plugins.py SITE [PATH ...]` starts pytest (collecting nothing, in an
empty directory) with the site directory SITE and the project's import path PATH... on
sys.path, and prints `{"name": "error", ...}`: the `pytest11` plugins that had to be turned off
(`-p no:NAME`) before pytest could start. An old project pins pytest; pip picks the newest
release of each plugin the pin does not constrain, and such a release may import what the old
pytest lacks (`from _pytest._io import TerminalWriter`) or call its hooks in a newer way
(`parser.addini(type="string")`): pytest then crashes before it collects a single test. Each
start that crashes blames the plugin whose code is nearest the error in the traceback; a crash
that no plugin outside the project's own directories is blamed for, or one whose traceback
passes through the project's own code, ends the search (pytest itself is broken there, or the
project is, which the reproduction must see as it is).

Runs in the build sandbox after the dependencies are installed (sandbox/guest/envbuild.py),
on Python 3.7 and later, with nothing but the standard library and SITE.
"""
import json
import subprocess
import sys
import tempfile

MAX_PLUGINS = 8

# Runs in a child per attempt, so that each start imports everything afresh.
_START = r'''
import json, os, re, site, sys, tempfile, traceback
site_dir, paths, blocked = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
sys.path[:0] = paths
site.addsitedir(site_dir)


def plugin_places():
    """entry-point name -> (module, the file or package directory it comes from), for the
    plugins outside the project's own directories"""
    import importlib.util
    try:
        from importlib import metadata
    except ImportError:
        try:
            import importlib_metadata as metadata
        except ImportError:
            metadata = None
    if metadata is not None:
        eps = metadata.entry_points()
        eps = eps.select(group="pytest11") if hasattr(eps, "select") else eps.get("pytest11", [])
        pairs = [(ep.name, ep.value.split(":")[0].strip()) for ep in eps]
    else:
        import pkg_resources
        pairs = [(ep.name, ep.module_name) for ep in pkg_resources.iter_entry_points("pytest11")]
    out = {}
    for name, module in pairs:
        try:
            spec = importlib.util.find_spec(module.split(".")[0])
        except Exception:
            continue
        origin = getattr(spec, "origin", None)
        if name in blocked:
            continue
        if not origin:   # its module is not there at all (a broken install): no place, but its name
            out[name] = (module, None)
            continue
        place = os.path.dirname(origin) if os.path.basename(origin) == "__init__.py" else origin
        if not in_project(place):
            out[name] = (module, place)
    return out


def error_text(e):
    return ("%s: %s" % (type(e).__name__, e)).strip()[:300]


def in_project(path):
    path = os.path.abspath(path)
    return any(path == q or path.startswith(q.rstrip("/") + "/") for q in map(os.path.abspath, paths))


def blame(files, missing=None):
    """The plugin whose code comes last (innermost) among `files`, or whose module is the one
    an import could not find (`missing`); None when no plugin is to blame, or when the project's
    own code is in the traceback (its import may fail because of the very bug under repair:
    that is for the reproduction to see, and the environment must not depend on it)."""
    if any(in_project(f) for f in files):
        return None
    places = plugin_places()
    for name, (module, place) in sorted(places.items()):
        if missing and (module == missing or module.startswith(missing + ".")):
            return name
    for f in reversed(files):
        f = os.path.abspath(f)
        name = next((n for n, (m, p) in sorted(places.items()) if p and (f == p or f.startswith(p + "/"))), None)
        if name:
            return name
    return None


# pytest's output goes to a file: a newer pytest prints the traceback of a plugin it could not
# load instead of raising it, and the files named there say which plugin it was
capture = tempfile.TemporaryFile(mode="w+")
saved = os.dup(1), os.dup(2)
os.dup2(capture.fileno(), 1)
os.dup2(capture.fileno(), 2)
try:
    import pytest
    code = int(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider"]
                           + [a for name in blocked for a in ("-p", "no:" + name)] + ["."]))
    result = {"ok": code in (0, 5), "code": code}
except BaseException as e:
    missing = e.name if isinstance(e, ImportError) else None
    result = {"ok": False, "blame": blame([f[0] for f in traceback.extract_tb(e.__traceback__)], missing),
              "error": error_text(e)}
finally:
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
if not result["ok"] and "blame" not in result:
    capture.seek(0)
    text = capture.read()
    files = re.findall(r'^(\S+\.py):\d+: in |File "([^"]+\.py)", line', text, re.M)
    missing = re.findall(r"No module named '([\w.]+)'", text)
    result["blame"] = blame([a or b for a, b in files], missing[-1] if missing else None)
    errors = [ln[4:].strip() for ln in text.splitlines() if ln.startswith("E   ")]
    result["error"] = (errors[-1] if errors else "pytest exited with %d" % result["code"])[:300]
print(json.dumps(result))
'''


def turned_off(site_dir, paths=()):
    """{plugin name: the error it caused}: what pytest needed turned off to start."""
    off = {}
    with tempfile.TemporaryDirectory(prefix="ouro-plugins-") as empty:
        for _ in range(MAX_PLUGINS):
            try:
                p = subprocess.run([sys.executable, "-I", "-S", "-c", _START, site_dir, json.dumps(list(paths)),
                                    json.dumps(sorted(off))], cwd=empty, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
                result = json.loads(p.stdout.strip().splitlines()[-1])
            except (subprocess.TimeoutExpired, ValueError, IndexError):
                break
            if result.get("ok") or not result.get("blame"):
                break
            off[result["blame"]] = result.get("error", "")
    return off


if __name__ == "__main__":
    print(json.dumps(turned_off(sys.argv[1], sys.argv[2:])))

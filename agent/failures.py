"""Why a test fails: the project's behaviour, or its environment.

A repair can only fix behaviour: a wrong value, an assertion, an exception raised by the
project's own code. A test that fails because the environment is not the one the project was
written for (a module that is not installed, a standard-library name this Python removed, a
missing executable, a fixture no installed plugin provides, pytest's own API that changed, no
network in the sandbox, the syntax of a newer Python) says nothing about the bug: it must never
be a repair target, and when nothing else fails the honest answer is "could not reproduce".

Everything here reads the failure text the runner recorded (pytest's long format, or a Python
traceback for errors ouro recorded itself); `classify` judges one failure, `classify_all` a
run's failures together, adding the one rule that needs them all: the same error, raised
outside the project, in most tests is the environment's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ENVIRONMENT = "environment"
BEHAVIOUR = "behaviour"


@dataclass(frozen=True)
class Failure:
    kind: str            # ENVIRONMENT | BEHAVIOUR
    error: str           # the exception line, e.g. "ModuleNotFoundError: No module named 'mock'"
    reason: str = ""     # for ENVIRONMENT: what is wrong with the environment, in words
    where: str = ""      # where it was raised, "path:line" ("" when the text does not say)

    @property
    def environment(self) -> bool:
        return self.kind == ENVIRONMENT

    def to_dict(self) -> dict:
        return {"kind": self.kind, "error": self.error, "reason": self.reason, "where": self.where}


# "E   socket.gaierror: [Errno -3] ..." / "KeyError: 'x'" / "subprocess.CalledProcessError: ..."
_EXC = re.compile(r"^((?:[A-Za-z_]\w*\.)*\w*(?:Error|Exception|Warning|error|Exit|Failed|Failure|"
                  r"Interrupt|Iteration|NotFound|Timeout|timeout))(?::\s?(.*))?$")
# "lib.py:7: AttributeError" (where it was raised), "dump.py:5: in to_json" (a frame on the way)
_PYTEST_LOC = re.compile(r"^(\S+?\.py):(\d+)(?::\s+in\s+\S+|:\s*(\S*))?\s*$")
_TB_LOC = re.compile(r'^\s*File "([^"]+)", line (\d+)')                 # a Python traceback's frame
_CHAINED = re.compile(r"^(?:During handling of the above exception, another exception occurred:|"
                      r"The above exception was the direct cause of the following exception:)$", re.M)
_FIXTURE = re.compile(r"fixture '([^']+)' not found")
_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from '([^']+)'(?: \(([^)]*)\))?")
_MODULE_ATTR = re.compile(r"module '([^']+)' has no attribute '([^']+)'")
_OBJECT_ATTR = re.compile(r"^'(\w+)' object has no attribute '([^']+)'")
_NO_FILE = re.compile(r"\[Errno (?:2|13)\] (?:No such file or directory|Permission denied): '([^'/]+)'")

# pytest's own objects: an attribute they lack is pytest's API that changed, not the project
_PYTEST_OBJECTS = {"Function", "Module", "Class", "Package", "Session", "Config", "Metafunc", "FixtureRequest",
                   "SubRequest", "TopRequest", "Node", "Item", "Collector", "MarkDecorator", "Mark", "MarkGenerator",
                   "CallSpec2", "TerminalReporter", "PytestPluginManager", "Parser", "Instance", "FixtureDef",
                   "CallInfo", "TestReport", "CollectReport", "LocalPath", "DoctestItem", "TestCaseFunction",
                   "UnitTestCase"}
_NETWORK = ("gaierror", "Temporary failure in name resolution", "Name or service not known", "Network is unreachable",
            "No address associated with hostname", "NewConnectionError", "MaxRetryError", "URLError",
            "Failed to establish a new connection", "nodename nor servname")
_DEPRECATION = {"DeprecationWarning", "PendingDeprecationWarning", "FutureWarning", "RemovedInPytest4Warning",
                "PytestDeprecationWarning", "PytestRemovedIn7Warning", "PytestRemovedIn8Warning",
                "PytestRemovedIn9Warning"}
_NEWER_PYTHON = ("'type' object is not subscriptable", "unsupported operand type(s) for |: 'type'",
                 "unsupported operand type(s) for |: 'types.GenericAlias'")


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def error_line(text: str) -> tuple[str, str]:
    """(exception type, message) of a failure text; ("", gist) when it names no exception."""
    # a chained exception: the one raised last is the failure
    text = _CHAINED.split(text or "")[-1]
    lines = text.splitlines()
    e_lines = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    for ln in e_lines:
        m = _EXC.match(ln)
        if m:
            return m.group(1), (m.group(2) or "").strip()
    for ln in e_lines:
        m = _FIXTURE.search(ln)
        if m:
            return "FixtureLookupError", m.group(0)
    for ln in reversed(lines):   # pytest's last line names the type: "lib.py:7: AttributeError"
        m = _PYTEST_LOC.match(ln.strip())
        if m and m.group(3):
            return m.group(3), (e_lines[0] if e_lines else "")
        if m:
            break
    for ln in reversed(lines):   # a Python traceback ends with "Type: message"
        m = _EXC.match(ln.strip())
        if m:
            return m.group(1), (m.group(2) or "").strip()
    gist = next((ln for ln in e_lines if ln), "") or next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    return "", gist


def frames(text: str) -> list[str]:
    """The "path:line" locations a failure text names, outermost first."""
    out = []
    for ln in (text or "").splitlines():
        m = _TB_LOC.match(ln) or _PYTEST_LOC.match(ln.strip())
        if m and not m.group(1).startswith("<"):
            out.append(f"{m.group(1)}:{m.group(2)}")
    return out


def _in_project(path: str, root: str) -> bool:
    return not path.startswith("/") or path.startswith(root.rstrip("/") + "/")


def _module_in_project(module: str, path: str | None, project_modules: frozenset[str], root: str) -> bool:
    if path and path.startswith("/"):
        return _in_project(path, root)
    return module.split(".")[0] in project_modules


def classify(text: str, project_modules: frozenset[str] | set[str] = frozenset(), root: str = "/workspace") -> Failure:
    """Judge one failure text. project_modules: the top-level modules the project's own files
    provide (a name missing from one of those is the project's behaviour); root: the
    project's directory as the failure's paths show it."""
    project_modules = frozenset(project_modules)
    exc, message = error_line(text)
    error = f"{exc}: {message}" if exc and message else (exc or message or "unknown error")
    error = " ".join(error.split())[:300]
    locs = frames(text)
    where = locs[-1] if locs else ""
    kind = _short(exc)

    def env(reason: str) -> Failure:
        return Failure(ENVIRONMENT, error, reason, where)

    if kind == "ModuleNotFoundError":
        return env("a module that is not installed")
    if kind == "ImportError":
        m = _CANNOT_IMPORT.search(message)
        if m and _module_in_project(m.group(2), m.group(3), project_modules, root):
            return Failure(BEHAVIOUR, error, "", where)
        if m:
            return env(f"a name that this version of {m.group(2)!r} does not have")
        return env("a module that cannot be imported here")
    if kind == "AttributeError":
        m = _MODULE_ATTR.search(message)
        if m and not _module_in_project(m.group(1), None, project_modules, root):
            return env(f"a name that this version of {m.group(1)!r} does not have")
        m = _OBJECT_ATTR.search(message)
        if m and m.group(1) in _PYTEST_OBJECTS:
            return env("pytest's API changed: the tests use what this pytest does not have")
    if kind == "FixtureLookupError":
        return env("a fixture that no installed plugin provides")
    if kind in ("FileNotFoundError", "PermissionError") and _NO_FILE.search(message) \
            and any("subprocess.py" in f for f in locs):
        return env(f"a missing executable: {_NO_FILE.search(message).group(1)}")
    if kind == "CalledProcessError" and "exit status 127" in message:
        return env("a missing executable: the shell answered 127, command not found")
    if any(n in error for n in _NETWORK):
        return env("no network in the sandbox")
    if kind in ("PackageNotFoundError", "DistributionNotFound"):
        return env("a distribution that is not installed, the project itself or a dependency")
    if kind in _DEPRECATION:
        return env("a deprecation turned into an error by this version")
    if kind == "SyntaxError":
        return env("code that does not parse with this Python")
    if kind == "TypeError" and any(s in message for s in _NEWER_PYTHON):
        return env("syntax of a newer Python")
    if "[Errno 30] Read-only file system" in message:
        return env("the sandbox's read-only file system")
    if where and not kind.startswith("Assertion") and kind not in ("Failed", "") and \
            re.search(r"/(_pytest|pluggy|pytest_\w+|xdist)/", where.rsplit(":", 1)[0]):
        return env("pytest or one of its plugins")
    return Failure(BEHAVIOUR, error, "", where)


def _outside_project(failure: Failure, text: str, root: str) -> bool:
    """Raised outside the project's code (a plugin, the standard library, a conftest), with no
    frame of the project's own modules on the way: nothing of the code under repair is involved."""
    from ouro.sandbox.core.testfiles import is_test_file

    path = failure.where.rsplit(":", 1)[0]
    if not path or (_in_project(path, root) and path.rsplit("/", 1)[-1] != "conftest.py"):
        return False
    prefix = root.rstrip("/") + "/"
    for loc in frames(text):
        p = loc.rsplit(":", 1)[0]
        if _in_project(p, root) and not is_test_file(p[len(prefix):] if p.startswith(prefix) else p):
            return False
    return True


def classify_all(failures: dict[str, str], tests: int, project_modules: frozenset[str] | set[str] = frozenset(),
                 root: str = "/workspace") -> dict[str, Failure]:
    """Classify every failure of one run (node id -> text; `tests`: how many tests ran).

    Beyond `classify`: when more than half of the tests (three at least) fail with the same
    error, raised outside the project's code (a plugin, the standard library, a conftest) with
    none of the project's modules on the way, it is the environment's, whatever its type. With
    the project's code involved, the same error everywhere is just as likely one bug that every
    test reaches, so it stays behaviour."""
    out = {n: classify(t, project_modules, root) for n, t in failures.items()}
    counts: dict[str, int] = {}
    for f in out.values():
        counts[f.error] = counts.get(f.error, 0) + 1
    for n, f in out.items():
        c = counts[f.error]
        if not f.environment and c >= 3 and c * 2 > max(tests, len(failures)) \
                and not f.error.startswith("AssertionError") and _outside_project(f, failures[n], root):
            out[n] = Failure(ENVIRONMENT, f.error, f"the same error in {c} of {max(tests, len(failures))} tests, "
                                                   "raised outside the project", f.where)
    return out


def summary(failures: dict[str, Failure]) -> str:
    """The most common environment error, for a one-line message: "<error> (<reason>), in N tests"."""
    env = [f for f in failures.values() if f.environment]
    if not env:
        return ""
    counts: dict[str, list[Failure]] = {}
    for f in env:
        counts.setdefault(f.error, []).append(f)
    error, group = max(counts.items(), key=lambda kv: (len(kv[1]), kv[0]))
    n = len(group)
    out = f"{error} ({group[0].reason}), in {n} test{'s' if n != 1 else ''}"
    others = [f for f in env if f.error != error]
    if others:
        out += f"; and {len(others)} other{'s' if len(others) != 1 else ''}, e.g. {others[0].error} ({others[0].reason})"
    return out

"""Why a test fails: the project's behaviour, or its environment.

A repair can only fix behaviour: a wrong value, an assertion, an exception raised by the
project's own code. A test that fails because the environment is not the one the project was
written for (a module that is not installed, a standard-library name this Python removed, a
missing executable, a fixture no installed plugin provides, pytest's own API that changed, no
network in the sandbox, the syntax of a newer Python) says nothing about the bug: it must never
be a repair target, and when nothing else fails the honest answer is "could not reproduce".

Everything here reads the failure text the runner recorded (pytest's format, or a Python
traceback for errors ouro recorded itself); `classify` judges one failure (a test's, or a test
module's collection error), `classify_all` a run's failures together, adding the one rule that
needs them all: the same error, raised outside the project, in most tests is the environment's.

Some errors name the environment wherever they are raised (a module that is not installed, a
fixture no plugin provides, a missing executable). Others are the environment's only when
raised while a module is imported, or outside the project's code with none of its modules on
the way; from the project's own code they are its behaviour: a SyntaxError (its `ast.parse`
of bad input), a deprecation turned into an error (its own `warnings.warn`), "'type' object is
not subscriptable" (its subscript of a class), pytest's generic class names (its own `Config`,
`Item`, `Node`).
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


# "socket.gaierror: [Errno -3] ..." / "KeyError: 'x'" / "subprocess.CalledProcessError: ..."
_EXC = re.compile(r"^((?:[A-Za-z_]\w*\.)*\w*(?:Error|Exception|Warning|error|Exit|Failed|Failure|"
                  r"Interrupt|Iteration|NotFound|Timeout|timeout))(?::\s?(.*))?$")
# a name that is only one of _EXC's endings ("Error", "Failure") with no message: a line of
# some text (an assertion's diff), not an exception; "Exception" and pytest's "Failed" are real
_BARE = {"Error", "error", "Warning", "Exit", "Failure", "Interrupt", "Iteration", "NotFound", "Timeout", "timeout"}
# "lib.py:7: AttributeError" (where it was raised), "dump.py:5: in to_json" (a frame on the way)
_PYTEST_LOC = re.compile(r"^(\S+?\.py):(\d+)(?::\s+in\s+(\S+)|:\s*(\S*))?\s*$")
_TB_LOC = re.compile(r'^\s*File "([^"]+)", line (\d+)(?:, in (\S+))?')   # a Python traceback's frame
_CHAINED = re.compile(r"^(?:During handling of the above exception, another exception occurred:|"
                      r"The above exception was the direct cause of the following exception:)$", re.M)
_FIXTURE = re.compile(r"fixture '([^']+)' not found")
_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from (?:partially initialized module )?'([^']+)'"
                            r"(?: \(most likely due to a circular import\))?(?: \(([^)]*)\))?")
_NO_MODULE = re.compile(r"No module named '([^']+)'")
_MODULE_ATTR = re.compile(r"module '([^']+)' has no attribute '([^']+)'")
_OBJECT_ATTR = re.compile(r"^'(\w+)' object has no attribute '([^']+)'")
_NO_FILE = re.compile(r"\[Errno (?:2|13)\] (?:No such file or directory|Permission denied): '([^'/]+)'")
_IMPORT_STMT = re.compile(r"^\s*>?\s*(?:import\s+[\w.]+|from\s+[\w.]+\s+import\b)")
# the import system and pytest's own import of a test module, in a traceback
_IMPORT_MACHINERY = re.compile(r"(?:^<frozen importlib\._bootstrap|/importlib/__init__\.py$|/_pytest/assertion/rewrite\.py$)")
_IMPORT_FUNCTIONS = {"import_path", "importtestmodule", "_importtestmodule", "_gcd_import", "import_module"}
_COLLECTING = ("ImportError while importing test module", "ImportError while loading conftest")

# Objects only pytest (and pluggy) have: an attribute they lack is pytest's API that changed,
# wherever it was asked for.
_PYTEST_OBJECTS = {"FixtureRequest", "SubRequest", "TopRequest", "Metafunc", "MarkDecorator", "MarkGenerator",
                   "CallSpec2", "TerminalReporter", "PytestPluginManager", "FixtureDef", "FixtureManager",
                   "CallInfo", "TestReport", "CollectReport", "LocalPath", "DoctestItem", "DoctestModule",
                   "DoctestTextfile", "TestCaseFunction", "UnitTestCase", "MonkeyPatch", "CaptureFixture",
                   "LogCaptureFixture", "Pytester", "Testdir", "ExceptionInfo", "RaisesContext", "HookRelay",
                   "_HookRelay", "HookCaller", "_HookCaller", "HookimplMarker", "HookspecMarker"}
# pytest's names that projects use for their own classes too (sanic's Config, scrapy's Item,
# black's Node): pytest's API only when raised outside the project's code (pytest, a plugin,
# a conftest) with none of the project's modules on the way
_PYTEST_GENERIC = {"Function", "Module", "Class", "Package", "Session", "Config", "Node", "Item", "Collector",
                   "Mark", "Parser", "Instance", "File", "FSCollector", "OptionGroup", "Argument"}
_NETWORK = ("gaierror", "Temporary failure in name resolution", "Name or service not known", "Network is unreachable",
            "No address associated with hostname", "NewConnectionError", "MaxRetryError", "URLError",
            "Failed to establish a new connection", "nodename nor servname")
_DEPRECATION = {"DeprecationWarning", "PendingDeprecationWarning", "FutureWarning", "RemovedInPytest4Warning",
                "PytestDeprecationWarning", "PytestRemovedIn7Warning", "PytestRemovedIn8Warning",
                "PytestRemovedIn9Warning"}
_NEWER_PYTHON = ("'type' object is not subscriptable", "unsupported operand type(s) for |: 'type'",
                 "unsupported operand type(s) for |: 'types.GenericAlias'")
_TEST_PACKAGES = {"test", "tests", "testing"}


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _exception(line: str) -> tuple[str, str] | None:
    """(type, message) when a line reads as an exception: "Type: message" or a bare type."""
    m = _EXC.match(line)
    if not m or (m.group(1) in _BARE and m.group(2) is None):
        return None
    return m.group(1), (m.group(2) or "").strip()


def error_line(text: str) -> tuple[str, str]:
    """(exception type, message) of a failure text; ("", gist) when it names no exception.

    pytest ends a failure with where it was raised and what: "lib.py:7: AttributeError". That
    line is trusted first; the `E` lines before it may hold any text (an assertion's diff can
    read "ConnectionError: ..."), so they only give the message of that type."""
    # a chained exception: the one raised last is the failure
    text = _CHAINED.split(text or "")[-1]
    lines = text.splitlines()
    e_lines = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    for ln in reversed(lines):   # pytest's last line names the type: "lib.py:7: AttributeError"
        m = _PYTEST_LOC.match(ln.strip())
        if m and m.group(4):
            exc = m.group(4)
            own = re.compile(r"^((?:[A-Za-z_][\w.]*\.)?" + re.escape(_short(exc)) + r")(?::\s?(.*))?$")
            mine = next((own.match(e) for e in e_lines if own.match(e)), None)
            if mine:   # its E line names it in full: "importlib.metadata.PackageNotFoundError: ..."
                return mine.group(1), (mine.group(2) or "").strip()
            return exc, e_lines[0] if e_lines else ""
        if m:
            break
    for ln in e_lines:
        m = _FIXTURE.search(ln)
        if m:
            return "FixtureLookupError", m.group(0)
    for ln in e_lines:
        found = _exception(ln)
        if found:
            return found
    for ln in reversed(lines):   # a Python traceback ends with "Type: message"
        found = _exception(ln.strip())
        if found:
            return found
    gist = next((ln for ln in e_lines if ln), "") or next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    return "", gist


@dataclass(frozen=True)
class Frame:
    path: str
    line: int
    function: str = ""    # "" where the text does not say (pytest's first and last entries)
    current: str = ""     # the source line that was running ("" where the text does not show it)

    @property
    def loc(self) -> str:
        return f"{self.path}:{self.line}"


def trace(text: str) -> list[Frame]:
    """The frames a failure text names, outermost first: pytest's entries (long ones show their
    source before the location, with ">" at the running line; short ones after it) or a
    Python traceback's "File ..." lines (the code line after each)."""
    out: list[Frame] = []
    lines = (text or "").splitlines()
    running = ""
    for i, ln in enumerate(lines):
        m = _TB_LOC.match(ln)
        short = m is not None
        if m is None:
            m = _PYTEST_LOC.match(ln.strip())
            if m is None:
                if ln.startswith(">"):
                    running = ln[1:].strip()
                continue
        if m.group(1).startswith("<"):
            running = ""
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        current = running
        if (short or m.group(3)) and nxt.startswith(" ") and not _TB_LOC.match(nxt):
            current = nxt.strip()
        out.append(Frame(m.group(1), int(m.group(2)), m.group(3) or "", current))
        running = ""
    return out


def frames(text: str) -> list[str]:
    """The "path:line" locations a failure text names, outermost first."""
    return [f.loc for f in trace(text)]


def in_project(path: str, root: str) -> bool:
    """Is a path from a traceback the project's (a relative one is: it is relative to the workspace)?"""
    return not path.startswith("/") or path.startswith(root.rstrip("/") + "/")


def _module_in_project(module: str, path: str | None, project_modules: frozenset[str], root: str) -> bool:
    if path and path.startswith("/"):
        return in_project(path, root)
    return module.split(".")[0] in project_modules


def _at_import(text: str, collecting: bool) -> bool:
    """Raised while a module was being imported: a collection error, a module's top level on
    the way, the import system, or an import statement that led to the frame that raised."""
    if collecting or text.lstrip().startswith(_COLLECTING):
        return True
    if re.search(r"^<frozen importlib\._bootstrap", text, re.M):
        return True
    fs = trace(text)
    for i, f in enumerate(fs):
        if f.function == "<module>" or f.function in _IMPORT_FUNCTIONS or _IMPORT_MACHINERY.search(f.path):
            return True
        if i < len(fs) - 1 and _IMPORT_STMT.match(f.current):
            return True
    return False


def _outside_project(where: str, text: str, root: str) -> bool:
    """Raised outside the project's code (pytest, a plugin, the standard library, a conftest),
    with no frame of the project's own modules on the way: nothing of the code under repair
    is involved."""
    from ouro.sandbox.core.testfiles import is_test_file

    path = where.rsplit(":", 1)[0]
    if not path or (in_project(path, root) and path.rsplit("/", 1)[-1] != "conftest.py"):
        return False
    prefix = root.rstrip("/") + "/"
    for loc in frames(text):
        p = loc.rsplit(":", 1)[0]
        if in_project(p, root) and not is_test_file(p[len(prefix):] if p.startswith(prefix) else p):
            return False
    return True


def classify(text: str, project_modules: frozenset[str] | set[str] = frozenset(), root: str = "/workspace",
             collecting: bool = False) -> Failure:
    """Judge one failure text. project_modules: the top-level modules the project's own files
    provide (a name missing from one of those is the project's behaviour); root: the
    project's directory as the failure's paths show it; collecting: the text is a module's
    collection error (its import failed).

    Some errors say what is wrong with the environment wherever they are raised (a module that
    is not installed, a fixture no plugin provides, a missing executable). Others only when
    raised while importing (a newer Python's syntax or generics, a deprecation turned into an
    error) or outside the project's code: from the project's own code (its `ast.parse`, its
    `warnings.warn`, its subscript of a class) they are its behaviour."""
    project_modules = frozenset(project_modules)
    exc, message = error_line(text)
    error = f"{exc}: {message}" if exc and message else (exc or message or "unknown error")
    error = " ".join(error.split())[:300]
    locs = frames(text)
    where = locs[-1] if locs else ""
    kind = _short(exc)

    def env(reason: str) -> Failure:
        return Failure(ENVIRONMENT, error, reason, where)

    def not_the_projects() -> bool:
        return _at_import(text, collecting) or _outside_project(where, text, root)

    behaviour = Failure(BEHAVIOUR, error, "", where)
    if kind == "ModuleNotFoundError":
        m = _NO_MODULE.search(message)
        name = m.group(1) if m else ""
        top = name.split(".")[0]
        if name and top in project_modules and top not in _TEST_PACKAGES:
            if "." in name:
                return behaviour   # a module of the project's own package that is not there
            return env("the project's own package is not on the import path")
        return env("a module that is not installed")
    if kind == "ImportError":
        m = _CANNOT_IMPORT.search(message)
        if m and _module_in_project(m.group(2), m.group(3), project_modules, root):
            return behaviour   # the project's module lacks the name (or imports itself in a circle)
        if m:
            return env(f"a name that this version of {m.group(2)!r} does not have")
        return env("a module that cannot be imported here")
    if kind == "AttributeError":
        m = _MODULE_ATTR.search(message)
        if m and not _module_in_project(m.group(1), None, project_modules, root):
            return env(f"a name that this version of {m.group(1)!r} does not have")
        m = _OBJECT_ATTR.search(message)
        if m and (m.group(1) in _PYTEST_OBJECTS or
                  (m.group(1) in _PYTEST_GENERIC and _outside_project(where, text, root))):
            return env("pytest's API changed: the tests use what this pytest does not have")
    if kind == "FixtureLookupError":
        return env("a fixture that no installed plugin provides")
    if kind in ("FileNotFoundError", "PermissionError") and _NO_FILE.search(message) \
            and any("subprocess.py" in f for f in locs):
        return env(f"a missing executable: {_NO_FILE.search(message).group(1)}")
    if kind == "CalledProcessError" and "exit status 127" in message:
        return env("a missing executable: the shell answered 127, command not found")
    if not kind.startswith("Assertion") and kind != "Failed" and any(n in error for n in _NETWORK):
        return env("no network in the sandbox")
    if kind in ("PackageNotFoundError", "DistributionNotFound"):
        return env("a distribution that is not installed, the project itself or a dependency")
    if kind in _DEPRECATION and not_the_projects():
        return env("a deprecation turned into an error by this version")
    if kind == "SyntaxError" and not_the_projects():
        return env("code that does not parse with this Python")
    if kind == "TypeError" and any(s in message for s in _NEWER_PYTHON) and not_the_projects():
        return env("syntax of a newer Python")
    if "[Errno 30] Read-only file system" in message:
        return env("the sandbox's read-only file system")
    if where and not kind.startswith("Assertion") and kind not in ("Failed", "") and \
            re.search(r"/(_pytest|pluggy|pytest_\w+|xdist)/", where.rsplit(":", 1)[0]):
        return env("pytest or one of its plugins")
    return behaviour


def classify_all(failures: dict[str, str], tests: int, project_modules: frozenset[str] | set[str] = frozenset(),
                 root: str = "/workspace") -> dict[str, Failure]:
    """Classify every failure of one run (node id -> text; `tests`: how many tests ran). A node
    id without "::" is a module that failed to collect (its import raised).

    Beyond `classify`: when more than half of the tests (three at least) fail with the same
    error, raised outside the project's code (a plugin, the standard library, a conftest) with
    none of the project's modules on the way, it is the environment's, whatever its type. With
    the project's code involved, the same error everywhere is just as likely one bug that every
    test reaches, so it stays behaviour."""
    out = {n: classify(t, project_modules, root, collecting="::" not in n) for n, t in failures.items()}
    counts: dict[str, int] = {}
    for f in out.values():
        counts[f.error] = counts.get(f.error, 0) + 1
    for n, f in out.items():
        c = counts[f.error]
        if not f.environment and c >= 3 and c * 2 > max(tests, len(failures)) \
                and not f.error.startswith("AssertionError") and _outside_project(f.where, failures[n], root):
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

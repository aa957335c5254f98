"""Running the repository's tests for a repair: the test command, reproduction, validation.

- The test command is pytest (`python -m pytest ARGS`, `pytest ARGS`; unittest and nose commands
  become pytest arguments), parsed with shlex so option values stay attached: results come from
  the report file ouro's in-sandbox runner writes (sandbox.testrun), never from console text.
- Reproduce: one cold run of the visible suite with per-test coverage (for localization).
  Each failure is classified (agent.failures): the targets are the tests the issue names, else
  the tests that fail for a behavioural reason; tests that fail for an environment reason are
  recorded, never targets nor regressions, and when nothing else fails the repair stops with
  "could not reproduce" naming the error. A module that does not import is left out with a
  warning and the rest runs. Each way this can go wrong has its own error and exit code.
- Validate: a candidate state runs the originally failing tests first (warm worker, fast);
  only if they all pass does the full visible suite run, to count regressions.
"""
from __future__ import annotations

import logging
import re
import shlex
import time
from dataclasses import dataclass, field
from typing import Callable

from ouro.sandbox.core.errors import BadInput, OuroError
from ouro.agent.failures import classify, classify_all, error_line, summary
from ouro.agent.state import Observation
from ouro.agent.selfdebug import failure_message

log = logging.getLogger(__name__)

DEFAULT_TEST_CMD = "python -m pytest"

# Exit codes of the reproduce step (documented in `ouro repair --help`).
EXIT_NOT_REPRODUCED = 3
EXIT_NO_TESTS = 4
EXIT_TESTS_HANG = 5
EXIT_DOES_NOT_IMPORT = 6


class ReproduceError(OuroError):
    """The repository cannot be repaired as it stands; the message says why in one line."""


class NothingFails(ReproduceError):
    """Every test passes: there is no failing test to repair from (a policy may write one)."""

    def __init__(self, message: str, passing: int):
        super().__init__(message, EXIT_NOT_REPRODUCED)
        self.passing = passing


# pytest options (core and common plugins) whose value is the next word unless given as
# --opt=value; every other option is a flag. --cov's value is optional: argparse gives it the
# next word unless that is an option.
VALUE_OPTIONS = frozenset({
    "-k", "-m", "-p", "-c", "-o", "-r", "-W", "-n", "--override-ini", "--deselect", "--ignore", "--ignore-glob",
    "--rootdir", "--confcutdir", "--basetemp", "--pythonwarnings", "--maxfail", "--tb", "--junitxml",
    "--junit-xml", "--junit-prefix", "--import-mode", "--log-level", "--log-cli-level", "--log-file",
    "--log-file-level", "--log-format", "--log-date-format", "--log-cli-format", "--durations",
    "--durations-min", "--capture", "--color", "--code-highlight", "--doctest-glob", "--doctest-report",
    "--timeout", "--timeout-method", "--numprocesses", "--dist", "--cov-report", "--cov-config",
    "--cov-fail-under", "--inifile", "--config-file", "--asyncio-mode", "--randomly-seed", "--reruns",
    "--reruns-delay", "--lfnf", "--last-failed-no-failures", "--pdbcls", "--report-log", "--ds", "--dc",
    "--pyargs-root", "--deselect-file", "--keyword", "--markers-filter", "--rsyncdir", "--tx", "--maxprocesses",
    "--html", "--css", "--json-report-file", "--hypothesis-profile", "--hypothesis-seed", "--count",
})


def split_pytest_args(args: list[str]) -> tuple[list[str], list[str]]:
    """(options, each with its value, in order; positional test paths)."""
    options, paths, i = [], [], 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-") or a == "-":
            paths.append(a)
            continue
        options.append(a)
        name = a.split("=", 1)[0]
        takes = name in VALUE_OPTIONS and "=" not in a and not (len(name) == 2 and len(a) > 2)
        optional = name == "--cov" and "=" not in a and i < len(args) and not args[i].startswith("-")
        if (takes or optional) and i < len(args):
            options.append(args[i])
            i += 1
    return options, paths


@dataclass
class TestCommand:
    __test__ = False
    text: str
    pytest_args: list[str]

    def paths(self) -> list[str]:
        return split_pytest_args(self.pytest_args)[1]

    def options(self) -> list[str]:
        """Every option with its value (`-o pythonpath=src`, `-k "a and b"`, `--deselect X`): what
        a run of chosen node ids keeps. Selections are harmless there: the node ids passed them."""
        return split_pytest_args(self.pytest_args)[0]

    def with_options(self, extra: list[str]) -> "TestCommand":
        return TestCommand(text=self.text, pytest_args=[*extra, *self.pytest_args]) if extra else self

    def including(self, path: str, default_paths: list[str]) -> "TestCommand":
        """This command with the test module `path` added to what it runs. Named explicitly, so
        pytest collects it whatever the project's test-file patterns; the command's own paths
        (else the project's testpaths, else everything) still run, and pytest collects a file
        named twice once."""
        options, paths = split_pytest_args(self.pytest_args)
        paths = paths or list(default_paths) or ["."]
        return TestCommand(text=f"{self.text} {shlex.quote(path)}", pytest_args=[*options, *paths, path])

    def take_pythonpath(self) -> tuple["TestCommand", list[str]]:
        """(this command without its `-o pythonpath=...` options, their folders). The folders
        go on PYTHONPATH instead: pytest before 7 ignores that setting, and 7.2 fails on it
        when the project has no ini file."""
        args, dirs, i = [], [], 0
        while i < len(self.pytest_args):
            a = self.pytest_args[i]
            value = None
            if a in ("-o", "--override-ini") and i + 1 < len(self.pytest_args):
                value, step = self.pytest_args[i + 1], 2
            elif a.startswith("--override-ini="):
                value, step = a.split("=", 1)[1], 1
            elif a.startswith("-o") and len(a) > 2:
                value, step = a[2:], 1
            if value is not None and value.split("=", 1)[0].strip() == "pythonpath":
                dirs += shlex.split(value.split("=", 1)[1]) if "=" in value else []
                i += step
                continue
            args.append(a)
            i += 1
        return TestCommand(text=self.text, pytest_args=args), dirs


def parse_test_cmd(cmd: str | None) -> TestCommand:
    """A test command as pytest arguments. pytest itself (`python -m pytest`, `pytest`,
    `py.test`), and unittest (`python -m unittest [discover -s DIR -p PATTERN | MODULES]`) and
    nose (`nosetests`, `python -m nose`, `nose2`) suites, which pytest runs too."""
    text = (cmd or DEFAULT_TEST_CMD).strip()
    try:
        argv = shlex.split(text)
    except ValueError as e:
        raise BadInput(f"--test-cmd {text!r}: {e}") from None
    python = argv[:1] and re.fullmatch(r"python(\d(\.\d+)?)?", argv[0])
    if python and argv[1:3] in (["-m", "pytest"], ["-m", "py.test"]):
        args = argv[3:]
    elif argv[:1] in (["pytest"], ["py.test"]):
        args = argv[1:]
    elif python and argv[1:3] == ["-m", "unittest"]:
        args = _unittest_args(argv[3:], text)
    elif argv[:1] in (["nosetests"], ["nose2"]) or (python and argv[1:3] in (["-m", "nose"], ["-m", "nose2"])):
        rest = argv[1:] if argv[0] in ("nosetests", "nose2") else argv[3:]
        args = ["-o", "python_files=" + " ".join(NOSE_FILES), *[a for a in rest if not a.startswith("-")]]
    else:
        raise BadInput(f"--test-cmd {text!r}: ouro runs tests with pytest; use `python -m pytest [ARGS...]` "
                       "(unittest and nose commands are understood too)")
    return TestCommand(text=text, pytest_args=args)


NOSE_FILES = ("test*.py", "*_test.py", "*_tests.py")


def _unittest_args(rest: list[str], text: str) -> list[str]:
    """`python -m unittest` arguments as pytest arguments."""
    if not rest or rest[0] == "discover" or rest[0].startswith("-"):
        start, pattern, i = ".", "test*.py", 1 if rest[:1] == ["discover"] else 0
        positional = []
        while i < len(rest):
            a = rest[i]
            if a in ("-s", "--start-directory", "-p", "--pattern", "-t", "--top-level-directory") and i + 1 < len(rest):
                if a in ("-s", "--start-directory"):
                    start = rest[i + 1]
                elif a in ("-p", "--pattern"):
                    pattern = rest[i + 1]
                i += 2
                continue
            if not a.startswith("-"):
                positional.append(a)
            i += 1
        # discover's positionals are start, pattern, top
        if positional:
            start = positional[0]
        if len(positional) > 1:
            pattern = positional[1]
        return ["-o", f"python_files={pattern}", start]
    paths = []
    for name in rest:
        if name.startswith("-"):
            continue
        if name.endswith(".py") or "/" in name:
            paths.append(name)
            continue
        # tests.test_mod[.TestCase[.test_method]]: the module's file, then pytest's node id
        parts = name.split(".")
        cls = next((j for j, p in enumerate(parts) if p[:1].isupper()), len(parts))
        paths.append("/".join(parts[:cls]) + ".py" + "".join("::" + p for p in parts[cls:]))
    if not paths:
        raise BadInput(f"--test-cmd {text!r}: no test modules named")
    return ["-o", "python_files=test*.py *_test.py", *paths]


def _collection_errors(run) -> dict[str, str]:
    """Modules (test files, conftests) that failed to import: records without a test name."""
    return {n: o.longrepr for n, o in run.outcomes.items() if "::" not in n and o.outcome == "error"}


def _first_error_line(text: str) -> str:
    exc, message = error_line(text)
    if exc:
        return " ".join(f"{exc}: {message}".split())[:300] if message else exc
    msg = failure_message(text, limit=300)
    return msg.split(" | ")[-1] if msg else "unknown error"


def _usage_error(stderr: str) -> str:
    """pytest's own complaint when it could not start (a usage or internal error), one line."""
    lines = [ln.strip() for ln in (stderr or "").splitlines() if ln.strip()]
    if any(ln.startswith("Traceback (most recent call last)") for ln in lines):
        return next((ln for ln in reversed(lines) if error_line(ln)[0]), lines[-1])   # a crash: its exception
    for ln in lines:
        if "error:" in ln.lower() and not ln.startswith("usage:"):
            return ln.split("error:", 1)[-1].strip() or ln
    return lines[-1] if lines else "no message"


_NODE_REF = re.compile(r"[\w./-]+\.py(?:::[\w\[\]\-.]+)+")


def named_tests(issue: str, nodeids) -> list[str]:
    """The tests an issue names: by node id (`tests/test_a.py::test_x`, also without its
    folder or parameters), or by its file and its name together (`test_a.py` or `tests.test_a`
    and `test_x` both appear). Never by a bare function name: `test_parse` may exist in every
    test file of the tree."""
    issue = issue or ""
    refs = _NODE_REF.findall(issue)
    ref_bares = {re.sub(r"\[.*?\](?=::|$)", "", r) for r in refs}
    out = []
    for n in nodeids:
        if "::" not in n:
            continue
        bare = re.sub(r"\[.*?\](?=::|$)", "", n)
        if any(n == r or bare == r or n.endswith("/" + r) or bare.endswith("/" + r) for r in refs):
            out.append(n)
            continue
        if any(bare == b or bare.endswith("/" + b) for b in ref_bares):
            continue   # named by node id with other parameters: not this one
        file, name = n.split("::", 1)[0], bare.split("::")[-1]
        module = file[:-3].replace("/", ".") if file.endswith(".py") else ""
        mentions_file = (re.search(r"(?<![\w/.])" + re.escape(file.rsplit("/", 1)[-1]) + r"\b", issue)
                         or file in issue or (module and "." in module and re.search(r"\b" + re.escape(module) + r"\b", issue)))
        if mentions_file and re.search(r"\b" + re.escape(name) + r"\b", issue):
            out.append(n)
    return out


@dataclass
class Baseline:
    failing: dict[str, str]          # nodeid -> failure text (longrepr)
    passing: list[str]
    target: list[str]                # the failing tests the repair must fix
    coverage: dict | None
    seconds: float
    collected: int
    durations: dict[str, float] = field(default_factory=dict)   # nodeid -> seconds in this run
    # tests that fail for an environment reason (never targets, never regressions): nodeid ->
    # agent.failures.Failure.to_dict()
    environment: dict[str, dict] = field(default_factory=dict)
    # modules that did not import and were left out, with their error: nodeid -> one line
    skipped_modules: dict[str, str] = field(default_factory=dict)
    # the reproduction test a policy wrote when every test passed ("" when the suite had one)
    reproduction: str = ""

    def budget_for(self, tests: list[str] | None, cap: float) -> float:
        """A timeout for running `tests` (None: all): generous against their measured time,
        short enough that a candidate that loops forever costs seconds, not minutes."""
        spent = sum(self.durations.values()) if tests is None else sum(self.durations.get(t, 1.0) for t in tests)
        return min(cap, max(8.0, 4 * spent + 6))


def _modules_note(skipped: dict[str, str]) -> str:
    if not skipped:
        return ""
    name, error = sorted(skipped.items())[0]
    more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
    return f" ({len(skipped)} module(s) could not be collected: {name} fails with {error}{more})"


def reproduce(run_tests: Callable[..., object], cmd: TestCommand, timeout: float, issue: str = "", *,
              project_modules: frozenset[str] = frozenset(), root: str = "/workspace") -> Baseline:
    """Run the visible suite once (cold, with coverage) and classify what happened.

    run_tests(pytest_args, timeout, coverage) -> sandbox.testrun.TestRun. project_modules and
    root (the workspace as the sandbox's paths show it) tell the project's code from the
    environment's (agent.failures).
    """
    t0 = time.monotonic()
    run = run_tests(cmd.pytest_args, timeout, True)
    seconds = time.monotonic() - t0
    reason = getattr(run.exec.reason, "value", str(run.exec.reason))
    if reason == "timeout":
        raise ReproduceError(f"the tests did not finish within {timeout:g}s (a test hangs?); "
                             "raise --test-timeout if they are just slow", EXIT_TESTS_HANG)
    modules = {n: _first_error_line(t) for n, t in _collection_errors(run).items()}
    if not run.collected:
        if modules:
            # nothing to run: every test module (or a conftest all of them need) fails to import
            name, text = sorted(_collection_errors(run).items())[0]
            f = classify(text, project_modules, root)
            why = f" (an environment problem: {f.reason})" if f.environment else ""
            verb = "loading" if name.rsplit("/", 1)[-1] == "conftest.py" else "collecting"
            raise ReproduceError(f"the code does not import: {verb} {name} fails with {f.error}{why}",
                                 EXIT_DOES_NOT_IMPORT)
        if run.exit_status in (3, 4) or (not run.complete and reason == "normal"):
            # a usage error, or pytest itself crashed before collecting (no final record)
            raise ReproduceError("could not reproduce: every failure is an environment problem: pytest could not "
                                 f"start ({_usage_error(run.exec.stderr)})", EXIT_NOT_REPRODUCED)
        raise ReproduceError(f"no tests found by `{cmd.text}`; pass --test-cmd to say how to run them", EXIT_NO_TESTS)
    if not run.complete and reason != "normal":
        raise ReproduceError(f"the test run ended abnormally ({reason}): {run.problem}", 1)
    for name, error in sorted(modules.items()):
        log.warning("left out %s: it does not import (%s); the other tests run", name, error)
    failing = {n: run.outcomes[n].longrepr for n in sorted(run.failed) if "::" in n}
    passing = sorted(run.passed)
    kinds = classify_all(failing, len(run.collected), project_modules, root)
    environment = {n: f.to_dict() for n, f in kinds.items() if f.environment}
    behaviour = [n for n in failing if n not in environment]
    # The issue may name the tests it is about; then those are the target, others are noise.
    named = named_tests(issue, failing)
    target = [n for n in named if n not in environment] or (behaviour if not named else [])
    if not target:
        if named:
            raise ReproduceError("could not reproduce: the tests the issue names fail only for environment reasons: "
                                 + summary({n: kinds[n] for n in named}), EXIT_NOT_REPRODUCED)
        if failing:
            raise ReproduceError("could not reproduce: every failure is an environment problem: " + summary(kinds)
                                 + _modules_note(modules), EXIT_NOT_REPRODUCED)
        raise NothingFails(f"could not reproduce: all {len(passing)} tests pass" + _modules_note(modules), len(passing))
    return Baseline(failing=failing, passing=passing, target=target, coverage=run.coverage,
                    seconds=seconds, collected=len(run.collected),
                    durations={n: round(o.duration_s, 4) for n, o in run.outcomes.items()},
                    environment=environment, skipped_modules=modules)


@dataclass
class Validator:
    """Validate candidate states: targets first (fast path), the full suite for regressions."""

    run_candidate: Callable[[dict[str, bytes | None], list[str], float], object]  # (changed, args, timeout) -> TestRun
    cmd: TestCommand
    baseline: Baseline
    timeout: float
    scan: Callable[[dict[str, str]], str | None] | None = None   # static scan: reason to reject, or None
    on_exec: Callable[[object], None] | None = None               # called with each ExecResult (audit)
    runs: int = field(default=0)

    def _run(self, files: dict[str, str], args: list[str], timeout: float):
        self.runs += 1
        run = self.run_candidate({p: t.encode() for p, t in files.items()}, args, timeout)
        if self.on_exec is not None:
            self.on_exec(run.exec)
        return run

    def __call__(self, files: dict[str, str]) -> Observation:
        t0 = time.monotonic()
        target = self.baseline.target
        if self.scan is not None:
            why = self.scan(files)
            if why:
                return Observation(status="rejected", target=len(target), failing={t: why for t in target},
                                   detail=why, seconds=time.monotonic() - t0)
        t_target = self.baseline.budget_for(target, self.timeout)
        run = self._run(files, [*self.cmd.options(), *target], t_target)
        obs = self._observe(run, target, t_target)
        if obs.status == "all_targets_pass":
            t_full = self.baseline.budget_for(None, self.timeout)
            full = self._run(files, self.cmd.pytest_args, t_full)
            obs = self._observe(run, target, t_target)
            full_obs = self._observe(full, target, t_full)
            if full_obs.status in ("timeout", "broke"):
                obs = full_obs
            else:
                now_failing = {n for n in full.failed}
                regressions = sorted(set(self.baseline.passing) & now_failing)
                obs.full_suite = True
                obs.tests_passed = len(full.passed)
                obs.regressions = len(regressions)
                obs.fixed = sum(1 for t in target if full.outcome(t) == "passed")
                obs.failing = {t: failure_message(full.outcomes[t].longrepr) if t in full.outcomes else "no result"
                               for t in target if full.outcome(t) != "passed"}
                if obs.failing:
                    obs.status = "partial" if obs.fixed else "failed"
                    obs.detail = "the targets pass alone but not in the full suite"
                elif regressions:
                    obs.status = "regression"
                    obs.detail = "breaks " + ", ".join(regressions[:3]) + (" ..." if len(regressions) > 3 else "")
                    obs.failing = {}
                elif not full.complete:
                    obs.status = "failed"
                    obs.detail = full.problem
                else:
                    obs.status = "plausible"
        obs.seconds = time.monotonic() - t0
        return obs

    def _observe(self, run, target: list[str], timeout: float) -> Observation:
        reason = getattr(run.exec.reason, "value", str(run.exec.reason))
        if reason == "timeout":
            return Observation(status="timeout", target=len(target), failing={t: "timeout" for t in target},
                               detail=f"timed out after {timeout:.0f}s")
        # a module that did not import before the edit either was left out then; a new one broke
        errors = {n: t for n, t in _collection_errors(run).items() if n not in self.baseline.skipped_modules}
        if errors or (not run.collected and not run.complete):
            text = next(iter(errors.values()), run.problem or run.exec.stderr[-300:])
            detail = _first_error_line(text)
            return Observation(status="broke", target=len(target), failing={t: detail for t in target}, detail=detail)
        fixed = [t for t in target if run.outcome(t) == "passed"]
        failing = {t: failure_message(run.outcomes[t].longrepr) if t in run.outcomes else "no result"
                   for t in target if run.outcome(t) != "passed"}
        status = "all_targets_pass" if not failing and run.complete else ("partial" if fixed else "failed")
        return Observation(status=status, target=len(target), fixed=len(fixed), failing=failing,
                           tests_passed=len(run.passed), detail="" if run.complete else run.problem)

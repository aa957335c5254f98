"""Running the repository's tests for a repair: the test command, reproduction, validation.

- The test command is pytest (`python -m pytest ARGS`, `pytest ARGS`; unittest and nose commands
  become pytest arguments), parsed with shlex so option values stay attached: results come from
  the report file ouro's in-sandbox runner writes (sandbox.testrun), never from console text.
- Reproduce: one cold run of the visible suite with per-test coverage (for localization).
  Each failure is classified (agent.failures): the targets are the tests the issue names, else
  the tests that fail for a behavioural reason; tests that fail for an environment reason are
  recorded, never targets nor regressions, and when nothing else fails the repair stops with
  "could not reproduce" naming the error. A test module that does not import is classified
  the same way: for a behavioural reason (the project's bug breaks its import) it is a target
  itself (pytest runs it by path, and its collection error is its failure); for an
  environment reason it is left out with a warning and the rest runs. Each way this can go
  wrong has its own error and exit code.
- Validate: a candidate state runs the originally failing tests first (warm worker, fast);
  only if they all pass does the full visible suite run, to count regressions.
- Time: every run gets a per-test timeout (sandbox/guest/deadline.py) and a timeout for the
  whole run; a test past its own is a failing test (reason timeout), not a failed run. The
  reproduce run's per-test limit is `test_timeout` (DEFAULT_TEST_TIMEOUT, --per-test-timeout);
  later runs derive theirs from what the tests took then (Baseline.per_test_timeout). All of
  them end by the repair's own deadline (`remaining`).
"""
from __future__ import annotations

import logging
import re
import shlex
import time
from dataclasses import dataclass, field
from typing import Callable

from ouro.sandbox.core.errors import BadInput, OuroError
from ouro.agent.failures import classify_all, error_line, in_project, summary
from ouro.agent.state import Observation, OutOfTime
from ouro.sandbox.testrun import VALUE_OPTIONS, split_pytest_args, without_selection  # noqa: F401 (re-exported)
from ouro.agent.selfdebug import failure_message

log = logging.getLogger(__name__)

DEFAULT_TEST_CMD = "python -m pytest"
DEFAULT_TEST_TIMEOUT = 10.0   # seconds one test may take in the reproduce run, before durations are known


def first_test_timeout(run_timeout: float, setting: float | None = None) -> float:
    """Each test's limit in a run before any durations are known (reproducing, judging): the
    setting (--per-test-timeout), but at most half the run's, so that a test that hangs fails
    and the tests after it still run."""
    return min(float(setting or DEFAULT_TEST_TIMEOUT), max(1.0, run_timeout / 2))

# Exit codes of the reproduce step (documented in `ouro repair --help`).
EXIT_NOT_REPRODUCED = 3
EXIT_NO_TESTS = 4
EXIT_TESTS_HANG = 5
EXIT_DOES_NOT_IMPORT = 6


class ReproduceError(OuroError):
    """The repository cannot be repaired as it stands; the message says why in one line."""


class NothingFails(ReproduceError):
    """Every test passes: there is no failing test to repair from (a policy may write one).
    skipped: the modules left out because they do not import here (node id -> error)."""

    def __init__(self, message: str, passing: int, skipped: dict[str, str] | None = None):
        super().__init__(message, EXIT_NOT_REPRODUCED)
        self.passing = passing
        self.skipped = dict(skipped or {})


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


def _internal_error(output: str) -> tuple[str, list[str]]:
    """pytest's INTERNALERROR traceback: its exception (the last line that names one) and the
    files its frames are in."""
    lines = [ln[len("INTERNALERROR>"):].strip() for ln in (output or "").splitlines() if ln.startswith("INTERNALERROR>")]
    error = next((ln for ln in reversed(lines) if error_line(ln)[0]), lines[-1] if lines else "no message")
    return error[:300], re.findall(r'File "([^"]+)", line', "\n".join(lines))


_NODE_REF = re.compile(r"[\w./-]+\.py(?:::[\w\[\]\-.]+)+")


def _mentions_file(issue: str, file: str) -> bool:
    module = file[:-3].replace("/", ".") if file.endswith(".py") else ""
    return bool(re.search(r"(?<![\w/.])" + re.escape(file.rsplit("/", 1)[-1]) + r"\b", issue)
                or file in issue or (module and "." in module and re.search(r"\b" + re.escape(module) + r"\b", issue)))


def named_tests(issue: str, nodeids) -> list[str]:
    """The tests an issue names: by node id (`tests/test_a.py::test_x`, also without its
    folder or parameters), or by its file and its name together (`test_a.py` or `tests.test_a`
    and `test_x` both appear). Never by a bare function name: `test_parse` may exist in every
    test file of the tree. A module that did not collect (a node id without "::") is named
    when the issue names a test in it or the module itself."""
    issue = issue or ""
    refs = _NODE_REF.findall(issue)
    ref_bares = {re.sub(r"\[.*?\](?=::|$)", "", r) for r in refs}
    ref_files = {r.split("::", 1)[0] for r in refs}
    out = []
    for n in nodeids:
        if "::" not in n:
            if any(n == f or n.endswith("/" + f) for f in ref_files) or _mentions_file(issue, n):
                out.append(n)
            continue
        bare = re.sub(r"\[.*?\](?=::|$)", "", n)
        if any(n == r or bare == r or n.endswith("/" + r) or bare.endswith("/" + r) for r in refs):
            out.append(n)
            continue
        if any(bare == b or bare.endswith("/" + b) for b in ref_bares):
            continue   # named by node id with other parameters: not this one
        file, name = n.split("::", 1)[0], bare.split("::")[-1]
        if _mentions_file(issue, file) and re.search(r"\b" + re.escape(name) + r"\b", issue):
            out.append(n)
    return out


@dataclass
class Baseline:
    failing: dict[str, str]          # nodeid -> failure text (longrepr); a module that did not collect
                                     # for a behavioural reason is one too (its path, its collection error)
    passing: list[str]
    target: list[str]                # the failing tests (or modules) the repair must fix
    coverage: dict | None
    seconds: float
    collected: int
    durations: dict[str, float] = field(default_factory=dict)   # nodeid -> seconds in this run
    # tests that fail for an environment reason (never targets, never regressions): nodeid ->
    # agent.failures.Failure.to_dict()
    environment: dict[str, dict] = field(default_factory=dict)
    # modules that did not import for an environment reason and were left out: nodeid -> one line
    skipped_modules: dict[str, str] = field(default_factory=dict)
    # the reproduction test a policy wrote when every test passed ("" when the suite had one)
    reproduction: str = ""
    timed_out: list[str] = field(default_factory=list)          # failing because they ran past their time
    test_timeout: float = DEFAULT_TEST_TIMEOUT                  # the reproduce run's per-test limit

    def per_test_timeout(self) -> float:
        """Each test's limit in later runs: ten times the slowest test that finished (at least
        a second, at most the reproduce run's limit). A test that still hangs costs that."""
        from ouro.sandbox.guest.deadline import per_test_timeout   # the guest's rule (imports pytest)

        finished = [d for n, d in self.durations.items() if n not in self.timed_out]
        return per_test_timeout(max(finished, default=0.0), self.test_timeout)

    def seconds_for(self, tests: list[str] | None) -> float:
        """What running `tests` (None: all) took, a test that timed out counted as the per-test
        limit it would run into again."""
        limit = self.per_test_timeout()
        return sum(limit if t in self.timed_out else self.durations.get(t, 1.0)
                   for t in (self.durations if tests is None else tests))

    def budget_for(self, tests: list[str] | None, cap: float) -> float:
        """A timeout for running `tests` (None: all): generous against their measured time,
        short enough that a candidate that loops forever costs seconds, not minutes."""
        # a module that never collected has no time of its own: it may take the suite's
        suite = self.seconds_for(None)
        spent = suite if tests is None else sum(self.seconds_for([t]) if "::" in t or t in self.durations
                                                else max(1.0, suite) for t in tests)
        return min(cap, max(8.0, 4 * spent + 6))

    def collection_failures(self) -> set[str]:
        """Modules that did not collect before any edit: left out, or failing targets."""
        return set(self.skipped_modules) | {n for n in self.failing if "::" not in n}


def _modules_note(skipped: dict[str, str]) -> str:
    if not skipped:
        return ""
    name, error = sorted(skipped.items())[0]
    more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
    return f" ({len(skipped)} module(s) could not be collected: {name} fails with {error}{more})"


def reproduce(run_tests: Callable[..., object], cmd: TestCommand, timeout: float, issue: str = "", *,
              project_modules: frozenset[str] = frozenset(), root: str = "/workspace",
              test_timeout: float = DEFAULT_TEST_TIMEOUT) -> Baseline:
    """Run the visible suite once (cold, with coverage) and classify what happened.

    run_tests(pytest_args, timeout, coverage) -> sandbox.testrun.TestRun, each test limited to
    test_timeout seconds (a test past it is a failing target like any other). project_modules
    and root (the workspace as the sandbox's paths show it) tell the project's code from the
    environment's (agent.failures).
    """
    t0 = time.monotonic()
    run = run_tests(cmd.pytest_args, timeout, True)
    seconds = time.monotonic() - t0
    reason = getattr(run.exec.reason, "value", str(run.exec.reason))
    if reason == "timeout":
        # each test has its own limit, so this is the suite as a whole: too slow to finish
        raise ReproduceError(f"the tests did not finish within {timeout:g}s, even with {test_timeout:g}s per test; "
                             "raise --test-timeout or --time-limit if they are just slow", EXIT_TESTS_HANG)
    if getattr(run, "rest", None):
        # a test was killed at its limit and no time was left to run the ones after it
        raise ReproduceError(f"the tests did not finish within {timeout:g}s: {len(run.rest)} never ran after one "
                             "that hung was killed; raise --test-timeout or --time-limit", EXIT_TESTS_HANG)
    errors = _collection_errors(run)
    tests = {n: run.outcomes[n].longrepr for n in sorted(run.failed) if "::" in n}
    kinds = classify_all({**tests, **errors}, len(run.collected), project_modules, root)
    # a test module that does not import because of the bug is a target (pytest runs it by
    # path); a conftest or a folder cannot be run alone, so it is left out like the modules
    # that do not import for an environment reason
    broken = sorted(n for n in errors if not kinds[n].environment and n.endswith(".py")
                    and n.rsplit("/", 1)[-1] != "conftest.py")
    modules = {n: _first_error_line(t) for n, t in errors.items() if n not in broken}
    if not run.collected and errors and not broken:
        # nothing can run: every test module (or a conftest all of them need) fails to import
        conftests = sorted(n for n in errors if n.rsplit("/", 1)[-1] == "conftest.py")
        name = conftests[0] if conftests else sorted(errors)[0]
        f = kinds[name]
        why = f" (an environment problem: {f.reason})" if f.environment else ""
        verb = "loading" if name.rsplit("/", 1)[-1] == "conftest.py" else "collecting"
        raise ReproduceError(f"the code does not import: {verb} {name} fails with {f.error}{why}",
                             EXIT_DOES_NOT_IMPORT)
    if not run.collected and not errors:
        if run.exit_status in (3, 4) or (not run.complete and reason == "normal"):
            # a usage error, or pytest itself crashed before collecting (no final record)
            raise ReproduceError("could not reproduce: every failure is an environment problem: pytest could not "
                                 f"start ({_usage_error(run.exec.stderr)})", EXIT_NOT_REPRODUCED)
        raise ReproduceError(f"no tests found by `{cmd.text}`; pass --test-cmd to say how to run them", EXIT_NO_TESTS)
    if not run.complete and reason != "normal":
        raise ReproduceError(f"the test run ended abnormally ({reason}): {run.problem}", 1)
    if run.exit_status == 3 and all(o.longrepr.startswith("no result:") for o in run.outcomes.values()):
        # pytest collected, then stopped on an internal error before any test had a result; when
        # none of the project's files is in its traceback, a plugin or pytest itself broke
        error, files = _internal_error(run.exec.stdout + run.exec.stderr)
        if not any(in_project(f, root) for f in files):
            raise ReproduceError("could not reproduce: every failure is an environment problem: pytest stopped "
                                 f"with an internal error ({error})", EXIT_NOT_REPRODUCED)
    for name, error in sorted(modules.items()):
        log.warning("left out %s: it does not import (%s); the other tests run", name, error)
    failing = {**tests, **{n: errors[n] for n in broken}}
    passing = sorted(run.passed)
    environment = {n: kinds[n].to_dict() for n in tests if kinds[n].environment}
    behaviour = [n for n in sorted(failing) if not kinds[n].environment]
    # The issue may name the tests it is about; then those are the target, others are noise.
    named = named_tests(issue, [*tests, *errors])
    target = [n for n in named if not kinds[n].environment] or (behaviour if not named else [])
    if not target:
        if named:
            raise ReproduceError("could not reproduce: the tests the issue names fail only for environment reasons: "
                                 + summary({n: kinds[n] for n in named}), EXIT_NOT_REPRODUCED)
        if tests:
            raise ReproduceError("could not reproduce: every failure is an environment problem: " + summary(kinds),
                                 EXIT_NOT_REPRODUCED)
        raise NothingFails(f"could not reproduce: all {len(passing)} tests pass" + _modules_note(modules), len(passing),
                           modules)
    return Baseline(failing=failing, passing=passing, target=target, coverage=run.coverage,
                    seconds=seconds, collected=len(run.collected),
                    durations={n: round(o.duration_s, 4) for n, o in run.outcomes.items()},
                    environment=environment, skipped_modules=modules,
                    timed_out=sorted(getattr(run, "timed_out", ())), test_timeout=test_timeout)


@dataclass
class Validator:
    """Validate candidate states: targets first (fast path), the full suite for regressions."""

    run_candidate: Callable[[dict[str, bytes | None], list[str], float], object]  # (changed, args, timeout) -> TestRun
    cmd: TestCommand
    baseline: Baseline
    timeout: float
    scan: Callable[[dict[str, str]], str | None] | None = None   # static scan: reason to reject, or None
    on_exec: Callable[[object], None] | None = None               # called with each ExecResult (audit)
    remaining: Callable[[], float] | None = None                  # seconds left to the repair's deadline
    oracles: object | None = None                                 # agent.oracles.Oracles: checked before "plausible"
    runs: int = field(default=0)

    def bounded(self, budget: float) -> tuple[float, bool]:
        """(a run's timeout, whether the repair's deadline cut it below `budget`)."""
        left = self.remaining() if self.remaining is not None else budget
        if left <= 0:
            raise OutOfTime("the repair's time limit is reached")
        return min(budget, left), left < budget

    def _run(self, files: dict[str, str], args: list[str], budget: float):
        timeout, cut = self.bounded(budget)
        self.runs += 1
        run = self.run_candidate({p: t.encode() for p, t in files.items()}, args, timeout,
                                 test_timeout=min(self.baseline.per_test_timeout(), timeout))
        if self.on_exec is not None:
            self.on_exec(run.exec)
        if cut and getattr(run.exec.reason, "value", "") == "timeout":
            raise OutOfTime("the repair's time limit ended a candidate's run")  # not the candidate's doing
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
                obs.failing = {t: failure_message(full.longrepr(t)) if full.longrepr(t) else "no result"
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
                    self._check_oracles(files, obs)
        obs.seconds = time.monotonic() - t0
        return obs

    def _check_oracles(self, files: dict[str, str], obs: Observation) -> None:
        """A patch the visible suite accepts must also agree with the doctests of the modules it
        edits and the issue's examples (agent.oracles); otherwise it is "contradicted"."""
        how = self.oracles.invocation(files) if self.oracles is not None else None
        if how is None:
            return
        extra, args = how
        budget = max(8.0, 4 * (self.oracles.seconds + self.baseline.per_test_timeout()) + 6)
        run = self._run({**files, **extra}, [*without_selection(self.cmd.options()), *args], min(budget, self.timeout))
        broken = self.oracles.contradicted(run, files)
        if broken:
            obs.status = "contradicted"
            obs.contradicts = broken
            first = next(iter(broken))
            obs.detail = f"contradicts {first}: {broken[first]}"

    def _observe(self, run, target: list[str], timeout: float) -> Observation:
        reason = getattr(run.exec.reason, "value", str(run.exec.reason))
        if reason == "timeout":
            return Observation(status="timeout", target=len(target), failing={t: "timeout" for t in target},
                               detail=f"timed out after {timeout:.0f}s")
        # A test that hangs now but did not before: the edit made the code loop, a dead end (as
        # a run past its whole timeout always was). Tests that hung already are the bug itself:
        # their failing is a failure like any other, and the search goes on from it.
        newly = sorted(set(getattr(run, "timed_out", ())) - set(self.baseline.timed_out))
        if newly:
            return Observation(status="timeout", target=len(target), failing={t: "timeout" for t in target},
                               detail=f"{newly[0]} now hangs (past its per-test timeout)")
        # a module that did not import before the edit either was left out then, or is a target
        # whose collection error is its failure; a new one broke
        before = self.baseline.collection_failures()
        errors = {n: t for n, t in _collection_errors(run).items() if n not in before}
        if errors or (not run.collected and not run.complete):
            text = next(iter(errors.values()), run.problem or run.exec.stderr[-300:])
            detail = _first_error_line(text)
            return Observation(status="broke", target=len(target), failing={t: detail for t in target}, detail=detail)
        fixed = [t for t in target if run.outcome(t) == "passed"]
        failing = {t: failure_message(run.longrepr(t)) if run.longrepr(t) else "no result"
                   for t in target if run.outcome(t) != "passed"}
        status = "all_targets_pass" if not failing and run.complete else ("partial" if fixed else "failed")
        return Observation(status=status, target=len(target), fixed=len(fixed), failing=failing,
                           tests_passed=len(run.passed), detail="" if run.complete else run.problem)

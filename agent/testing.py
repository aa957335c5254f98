"""Running the repository's tests for a repair: the test command, reproduction, validation.

- The test command is pytest (`python -m pytest ARGS` or `pytest ARGS`): results come from the
  report file ouro's in-sandbox runner writes (sandbox.testrun), never from console text.
- Reproduce: one cold run of the visible suite with per-test coverage (for localization);
  what fails is what the repair must fix. Each way this can go wrong has its own error.
- Validate: a candidate state runs the originally failing tests first (warm worker, fast);
  only if they all pass does the full visible suite run, to count regressions.
- Time: every run gets a per-test timeout (sandbox/guest/deadline.py) and a timeout for the
  whole run; a test past its own is a failing test (reason timeout), not a failed run. The
  reproduce run's per-test limit is `test_timeout` (DEFAULT_TEST_TIMEOUT, --per-test-timeout);
  later runs derive theirs from what the tests took then (Baseline.per_test_timeout). All of
  them end by the repair's own deadline (`remaining`).
"""
from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass, field
from typing import Callable

from ouro.sandbox.core.errors import BadInput, OuroError
from ouro.sandbox.testrun import pytest_options
from ouro.agent.state import Observation, OutOfTime
from ouro.agent.selfdebug import failure_message

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


@dataclass
class TestCommand:
    __test__ = False
    text: str
    pytest_args: list[str]

    def paths(self) -> list[str]:
        return [a for a in self.pytest_args if not a.startswith("-")]

    def options(self) -> list[str]:
        return pytest_options(self.pytest_args)


def parse_test_cmd(cmd: str | None) -> TestCommand:
    text = (cmd or DEFAULT_TEST_CMD).strip()
    try:
        argv = shlex.split(text)
    except ValueError as e:
        raise BadInput(f"--test-cmd {text!r}: {e}") from None
    if argv[:3] in (["python", "-m", "pytest"], ["python3", "-m", "pytest"]):
        args = argv[3:]
    elif argv[:1] in (["pytest"], ["py.test"]):
        args = argv[1:]
    else:
        raise BadInput(f"--test-cmd {text!r}: ouro runs pytest; use `python -m pytest [ARGS...]`")
    return TestCommand(text=text, pytest_args=args)


def _collection_errors(run) -> dict[str, str]:
    return {n: o.longrepr for n, o in run.outcomes.items() if "::" not in n and o.outcome == "error"}


def _first_error_line(text: str) -> str:
    msg = failure_message(text, limit=200)
    return msg.split(" | ")[-1] if msg else "unknown error"


@dataclass
class Baseline:
    failing: dict[str, str]          # nodeid -> failure text (longrepr)
    passing: list[str]
    target: list[str]                # the failing tests the repair must fix
    coverage: dict | None
    seconds: float
    collected: int
    durations: dict[str, float] = field(default_factory=dict)   # nodeid -> seconds in this run
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
        return min(cap, max(8.0, 4 * self.seconds_for(tests) + 6))


def reproduce(run_tests: Callable[..., object], cmd: TestCommand, timeout: float, issue: str = "",
              test_timeout: float = DEFAULT_TEST_TIMEOUT) -> Baseline:
    """Run the visible suite once (cold, with coverage) and classify what happened.

    run_tests(pytest_args, timeout, coverage) -> sandbox.testrun.TestRun, each test limited to
    test_timeout seconds (a test past it is a failing target like any other).
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
    if errors:
        name, text = sorted(errors.items())[0]
        raise ReproduceError(f"the code does not import: collecting {name} fails with {_first_error_line(text)}",
                             EXIT_DOES_NOT_IMPORT)
    if not run.collected:
        raise ReproduceError(f"no tests found by `{cmd.text}`; pass --test-cmd to say how to run them", EXIT_NO_TESTS)
    if not run.complete and reason != "normal":
        raise ReproduceError(f"the test run ended abnormally ({reason}): {run.problem}", 1)
    failing = {n: run.outcomes[n].longrepr for n in sorted(run.failed) if "::" in n}
    passing = sorted(run.passed)
    if not failing:
        raise ReproduceError(f"could not reproduce: all {len(passing)} tests pass", EXIT_NOT_REPRODUCED)
    # The issue may name the tests it is about; then those are the target, others are noise.
    named = [n for n in failing if re.search(r"\b" + re.escape(n.split("::")[-1].split("[")[0]) + r"\b", issue or "")]
    target = named or list(failing)
    return Baseline(failing=failing, passing=passing, target=target, coverage=run.coverage,
                    seconds=seconds, collected=len(run.collected),
                    durations={n: round(o.duration_s, 4) for n, o in run.outcomes.items()},
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
        run = self._run({**files, **extra}, [*self.cmd.options(), *args], min(budget, self.timeout))
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
        errors = _collection_errors(run)
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

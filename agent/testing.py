"""Running the repository's tests for a repair: the test command, reproduction, validation.

- The test command is pytest (`python -m pytest ARGS` or `pytest ARGS`): results come from the
  report file ouro's in-sandbox runner writes (sandbox.testrun), never from console text.
- Reproduce: one cold run of the visible suite with per-test coverage (for localization);
  what fails is what the repair must fix. Each way this can go wrong has its own error.
- Validate: a candidate state runs the originally failing tests first (warm worker, fast);
  only if they all pass does the full visible suite run, to count regressions.
"""
from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass, field
from typing import Callable

from ouro.sandbox.core.errors import BadInput, OuroError
from ouro.agent.state import Observation
from ouro.agent.selfdebug import failure_message

DEFAULT_TEST_CMD = "python -m pytest"

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
        # Only value-free flags survive when running chosen node ids: "-k EXPR" would filter them.
        return [a for a in self.pytest_args if a.startswith("-") and a not in ("-k", "-m", "-p", "-c")]


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

    def budget_for(self, tests: list[str] | None, cap: float) -> float:
        """A timeout for running `tests` (None: all): generous against their measured time,
        short enough that a candidate that loops forever costs seconds, not minutes."""
        spent = sum(self.durations.values()) if tests is None else sum(self.durations.get(t, 1.0) for t in tests)
        return min(cap, max(8.0, 4 * spent + 6))


def reproduce(run_tests: Callable[..., object], cmd: TestCommand, timeout: float, issue: str = "") -> Baseline:
    """Run the visible suite once (cold, with coverage) and classify what happened.

    run_tests(pytest_args, timeout, coverage) -> sandbox.testrun.TestRun.
    """
    t0 = time.monotonic()
    run = run_tests(cmd.pytest_args, timeout, True)
    seconds = time.monotonic() - t0
    reason = getattr(run.exec.reason, "value", str(run.exec.reason))
    if reason == "timeout":
        raise ReproduceError(f"the tests did not finish within {timeout:g}s (a test hangs?); "
                             "raise --test-timeout if they are just slow", EXIT_TESTS_HANG)
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
                    durations={n: round(o.duration_s, 4) for n, o in run.outcomes.items()})


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

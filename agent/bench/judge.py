"""Judge a patch the way a maintainer would: on tests the agent never saw, in a fresh sandbox.

The agent's own sandbox may hold state it left behind (caches, edited tests, files outside
the patch), so the judge starts from the task's pristine repository, applies only the patch
text, lays the hidden tests over it (or applies a SWE-bench test_patch) and runs them in a
sandbox opened for this one purpose. Results come from the test runner's report file
(sandbox.testrun), never from console text the code under test could forge.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ouro.agent.bench.suite import Task
from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.hostgit import git


@dataclass
class Verdict:
    fixed: bool
    applied: bool                    # the patch applied cleanly to the pristine repository
    detail: str                      # one line: why fixed or not
    outcomes: dict[str, str] = field(default_factory=dict)   # test node id -> passed/failed/...
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"fixed": self.fixed, "applied": self.applied, "detail": self.detail,
                "outcomes": dict(sorted(self.outcomes.items())), "seconds": round(self.seconds, 3)}


def apply_patch(repo: Path, patch: str) -> str | None:
    """Apply a unified diff inside repo; None on success, else the tool's complaint (one line)."""
    if not patch.strip():
        return "the patch is empty"
    # `git apply` works in a plain directory too; it refuses partial application, unlike patch(1).
    # The tree is not a repository: git looks for none in it or above it (a planted .git is not read)
    r = git(repo, "apply", "--whitespace=nowarn", "-p1", "-", input=patch.encode(), outside=True)
    if r.returncode == 0:
        return None
    msg = r.stderr.decode(errors="replace").strip().splitlines()
    return msg[0] if msg else f"git apply exited {r.returncode}"


def judge_patch(task: Task, patch: str | None, *, policy, timeout: float | None = None,
                unsafe_local: bool = False) -> Verdict:
    """Run the task's hidden tests against `patch` in a fresh sandbox of `policy.backend`."""
    start = time.monotonic()
    if not patch:
        return Verdict(False, False, "no patch to judge", seconds=0.0)
    with tempfile.TemporaryDirectory(prefix=f"ouro-judge-{task.id}-") as tmp:
        repo = task.materialize(Path(tmp) / "repo")
        problem = apply_patch(repo, patch)
        if problem:
            return Verdict(False, False, f"patch does not apply: {problem}", seconds=time.monotonic() - start)
        if task.test_patch:
            problem = apply_patch(repo, task.test_patch)
            if problem:
                return Verdict(False, True, f"test_patch does not apply over the patch: {problem}",
                               seconds=time.monotonic() - start)
        if not task.fail_to_pass:
            for rel in task.hidden_tests:
                dest = repo / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(task.hidden_dir / rel, dest)
        try:
            pytest_args, setup = judging_command(task, repo)
        except BadInput as e:
            return Verdict(False, True, str(e), seconds=time.monotonic() - start)
        must_pass = [*task.fail_to_pass, *task.pass_to_pass]
        run = _run_in_fresh_sandbox(repo, pytest_args, setup, policy=policy, timeout=timeout or task.timeout_s,
                                    unsafe_local=unsafe_local, task_id=task.id)
    outcomes = {nid: _outcome_name(o) for nid, o in _outcomes(run).items()}
    fixed, detail = _decide(run, outcomes, must_pass)
    return Verdict(fixed, True, detail, outcomes, seconds=time.monotonic() - start)


def judging_command(task: Task, repo: Path):
    """(pytest arguments, the set-up that environment needs) for judging `task` in repo: the
    instance's own test command (its options, its `-o pythonpath`) with the FAIL_TO_PASS and
    PASS_TO_PASS node ids, or the hidden test command; a src/ layout's folder on the import
    path either way, as the repair had it."""
    from ouro.agent.testing import parse_test_cmd
    from ouro.agent.testsetup import detect

    if task.fail_to_pass:
        cmd, extra = parse_test_cmd(task.test_cmd).take_pythonpath()
        args = [*cmd.options(), *task.fail_to_pass, *task.pass_to_pass]
    else:
        try:
            cmd, extra = parse_test_cmd(task.hidden_test_cmd or "").take_pythonpath()
        except BadInput:
            raise BadInput(f"hidden_test_cmd must be a pytest command, got {task.hidden_test_cmd!r}") from None
        args = cmd.pytest_args
    setup = detect(repo, None, also=extra)
    setup.write_generated(repo)   # the judge's own copy: what an install would have written, as the repair had it
    return [*setup.pytest_options(), *args], setup


def _run_in_fresh_sandbox(repo: Path, pytest_args: list[str], setup, *, policy, timeout: float,
                          unsafe_local: bool, task_id: str):
    from ouro.agent.testing import first_test_timeout
    from ouro.sandbox.backends import open_sandbox
    from ouro.sandbox.testrun import run_tests_cold

    # a patch that makes a hidden test hang fails that test; the others are still judged
    per_test = first_test_timeout(timeout)
    with open_sandbox(policy, "judge", workspace=repo, labels={"ouro.task": task_id}, unsafe_local=unsafe_local) as sb:
        return run_tests_cold(sb, pytest_args, timeout, env=setup.env(sb.workspace) or None, test_timeout=per_test)


def _outcomes(run) -> dict:
    return dict(getattr(run, "outcomes", None) or getattr(run, "tests", None) or {})


def _outcome_name(o) -> str:
    if isinstance(o, str):
        return o
    return str(getattr(o, "outcome", None) or getattr(o, "status", None) or o)


def _decide(run, outcomes: dict[str, str], must_pass: list[str]) -> tuple[bool, str]:
    if not getattr(run, "complete", False):
        reason = getattr(run, "problem", "") or getattr(getattr(getattr(run, "exec", None), "reason", None), "value", "")
        return False, f"the hidden test session did not finish normally ({reason or 'crashed'})"
    if must_pass:
        missing = [n for n in must_pass if n not in outcomes]
        if missing:
            return False, f"{len(missing)} required test(s) did not run, e.g. {missing[0]}"
        bad = [n for n in must_pass if outcomes[n] != "passed"]
        if bad:
            return False, f"{len(bad)} of {len(must_pass)} required tests did not pass, e.g. {bad[0]} ({outcomes[bad[0]]})"
        return True, f"all {len(must_pass)} FAIL_TO_PASS and PASS_TO_PASS tests pass"
    if not outcomes:
        return False, "no hidden test ran"
    bad = [n for n, o in outcomes.items() if o in ("failed", "error")]
    if bad:
        return False, f"{len(bad)} of {len(outcomes)} hidden tests fail, e.g. {bad[0]}"
    passed = sum(1 for o in outcomes.values() if o == "passed")
    if not passed:
        return False, "every hidden test was skipped"
    return True, f"all {passed} hidden tests pass"

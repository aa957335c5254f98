"""Time in a repair (agent.testing, agent.search): each test's limit from what the tests took,
each run's timeout from the suite's time and the repair's deadline, and a search that stops
cleanly when the deadline ends a candidate's run (that candidate was not judged: it is not
in the tree, and it is not cached)."""
from __future__ import annotations

import pytest

from ouro.agent.search import SearchConfig, TreeSearch
from ouro.agent.state import Observation, OutOfTime, SearchContext
from ouro.agent.testing import Baseline, TestCommand, Validator, first_test_timeout
from ouro.sandbox.base import EndReason, ExecResult
from ouro.sandbox.testrun import TestOutcome, TestRun


def baseline(**durations) -> Baseline:
    names = {f"t::{k}": v for k, v in durations.items()}
    return Baseline(failing={"t::hang": "ouro.TestTimeout"}, passing=[n for n in names if n != "t::hang"],
                    target=["t::hang"], coverage=None, seconds=1.0, collected=len(names), durations=names,
                    timed_out=["t::hang"], test_timeout=10.0)


def test_each_test_gets_ten_times_the_slowest_finished_test_within_bounds():
    assert baseline(a=0.01, b=0.05, hang=10.0).per_test_timeout() == 1.0      # at least a second
    assert baseline(a=0.3, hang=10.0).per_test_timeout() == pytest.approx(3.0)
    assert baseline(a=4.0, hang=10.0).per_test_timeout() == 10.0              # at most the reproduce run's
    assert baseline(hang=10.0).per_test_timeout() == 1.0                      # nothing finished: the floor
    # a test that timed out counts as the limit it would meet again, not as what it took
    b = baseline(a=0.3, hang=10.0)
    assert b.seconds_for(["t::hang"]) == pytest.approx(3.0) and b.seconds_for(None) == pytest.approx(3.3)
    assert first_test_timeout(300.0) == 10.0 and first_test_timeout(8.0) == 4.0 and first_test_timeout(1.0) == 1.0
    assert first_test_timeout(300.0, 2.5) == 2.5


def _run(reason=EndReason.NORMAL, passed=True) -> TestRun:
    o = TestOutcome("t::hang", "passed" if passed else "failed")
    return TestRun(outcomes={"t::hang": o}, collected=["t::hang"], complete=True,
                   exec=ExecResult(exit_code=0, stdout="", stderr="", duration_s=0.1, reason=reason))


def test_the_deadline_bounds_every_run_and_a_cut_run_is_out_of_time():
    calls = []
    left = [100.0]

    def run_candidate(changed, args, timeout, test_timeout=None):
        calls.append((timeout, test_timeout))
        return _run(EndReason.TIMEOUT if timeout < 8 else EndReason.NORMAL, passed=False)

    v = Validator(run_candidate=run_candidate, cmd=TestCommand("python -m pytest", ["-q"]),
                  baseline=baseline(a=0.01, hang=10.0), timeout=300, remaining=lambda: left[0])
    obs = v({"m.py": "x = 1\n"})
    assert obs.status == "failed" and calls == [(10.0, 1.0)]   # budget_for: 4 x 1s + 6; each test 1s
    left[0] = 3.0
    with pytest.raises(OutOfTime):                             # cut to 3s and timed out: not judged
        v({"m.py": "x = 2\n"})
    assert calls[-1] == (3.0, 1.0)
    left[0] = 0.0
    with pytest.raises(OutOfTime):                             # nothing left: not even started
        v({"m.py": "x = 3\n"})
    assert len(calls) == 2


def test_search_stops_at_out_of_time_and_forgets_the_unjudged_candidate():
    from test_search import LetterPolicy

    judged = []

    def evaluate(node):
        if len(judged) == 2:
            raise OutOfTime("deadline")
        judged.append(node.id)
        return Observation(status="failed", target=1, failing={"t": "assert 0 == 1"})

    root = Observation(status="failed", target=1, failing={"t": "assert 0 == 1"})
    s = TreeSearch(LetterPolicy(), evaluate, SearchContext(base_files={"m.py": ""}, target_tests=["t"]),
                   SearchConfig(budget=10), root)
    result = s.run()
    assert result.stopped == "time" and result.validated == 2
    assert sorted(result.nodes) == [0, *judged] and s.nodes[0].children == judged


def test_a_test_that_hangs_only_since_the_edit_is_a_dead_end_one_that_hung_before_is_the_bug():
    def run_with(timed_out: list[str]):
        def run_candidate(changed, args, timeout, test_timeout=None):
            outcomes = {n: TestOutcome(n, "failed", "E   ouro.TestTimeout: the test ran past its per-test timeout",
                                       1.0, "timeout") for n in timed_out}
            outcomes.setdefault("t::a", TestOutcome("t::a", "passed"))
            outcomes.setdefault("t::hang", TestOutcome("t::hang", "failed", "E   assert 0 == 1"))
            return TestRun(outcomes=outcomes, collected=sorted(outcomes), complete=True,
                           exec=ExecResult(exit_code=1, stdout="", stderr="", duration_s=1.0))
        return Validator(run_candidate=run_candidate, cmd=TestCommand("python -m pytest", ["-q"]),
                         baseline=baseline(a=0.01, hang=10.0), timeout=300)

    still = run_with(["t::hang"])({"m.py": "x = 1\n"})
    assert still.status == "failed" and "TestTimeout" in still.failing["t::hang"]
    newly = run_with(["t::hang", "t::a"])({"m.py": "x = 1\n"})
    assert newly.status == "timeout" and newly.detail.startswith("t::a now hangs")

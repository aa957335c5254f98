"""Per-test timeouts (guest side): a test that runs past its time FAILS, with reason
`timeout`, and the session goes on with the next test. A hanging test is a symptom of the
bug under repair, not a reason to give up on the whole run.

A pytest plugin, registered next to recorder.Recorder by runner.py and warm_worker.py. Each
phase of a test (setup, call, teardown) gets the test's time:
- soft: `signal.setitimer` raises TestTimeout in the test's own code when the time is up
  (again every quarter second if the code swallows it), and a sealed record
  {"kind": "timeout", "nodeid", "seconds"} says so. The test fails like any other.
- hard: a test that ignores the interrupt (a loop in C, `except BaseException: pass` in a
  loop) is killed with its process by faulthandler's watchdog thread, which needs no GIL,
  `grace` seconds later; its traceback goes to the process's stderr under faulthandler's
  own header. The host (sandbox.testrun) then marks that test failed with reason timeout and
  runs the tests after it in a fresh process.
Only the phases are timed, never pytest's own bookkeeping between them, and the interrupt is
only raised where the test's code runs (not inside pytest, pluggy or ouro's guest code), so
a timeout can fail the test but never the session.

The time: `seconds` for every test until one has timed out; from then on at most
`per_test_timeout(slowest passing test so far)`: once the code is known to hang, the tests
that follow hang for the same reason, and each need not cost the full default.

Runs on every interpreter a sandbox may use (3.7 and later): no walrus, no `match`.
Without setitimer (not the main thread) only the hard limit applies.
"""
from __future__ import annotations

import faulthandler
import os
import signal
import threading

import pytest

FLOOR_S = 1.0       # no test's limit is shorter than this
FACTOR = 10.0       # x the slowest passing test
REPEAT_S = 0.25     # the interrupt again, for code that swallowed it
# faulthandler's header when its watchdog fires ("Timeout (0:00:05)!"): the host's evidence
# that the process was killed by this plugin's hard limit
HARD_HEADER = "Timeout ("
# the same text for every timeout, whatever the limit or the way it ended: a candidate whose
# test still hangs has not "changed the failure" (agent.search compares these messages)
MESSAGE = "the test ran past its per-test timeout"


def per_test_timeout(slowest_passing_s, cap):
    """The limit for one test, given how long the slowest passing test took (None: unknown):
    ten times that, at least FLOOR_S, at most cap. The host uses it too."""
    if slowest_passing_s is None:
        return cap
    return min(cap, max(FLOOR_S, FACTOR * slowest_passing_s))


def grace_for(seconds):
    """How long after the soft interrupt the hard limit kills the process."""
    return min(5.0, max(1.0, seconds / 2.0))


class TestTimeout(BaseException):
    """Raised into a test past its time. A BaseException, so that `except Exception` in the
    code under test does not swallow it (pytest still reports it as the test's failure)."""

    __test__ = False


TestTimeout.__module__ = "ouro"   # pytest shows it as `ouro.TestTimeout: ...`


def _harness_dirs():
    dirs = [os.path.dirname(os.path.abspath(__file__))]
    for name in ("_pytest", "pluggy"):
        try:
            mod = __import__(name)
            dirs.append(os.path.dirname(os.path.abspath(mod.__file__)))
        except Exception:
            pass
    return tuple(d + os.sep for d in dirs)


class Deadline:
    def __init__(self, seconds, emit):
        self.seconds = float(seconds)
        self.emit = emit
        self.timed_out = 0
        self.slowest = 0.0
        self._spent = {}
        self._current = None          # (nodeid, seconds) while a phase runs
        self._fired = set()
        self._harness = _harness_dirs()
        self._can_signal = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        # the watchdog writes to a private copy of stderr: pytest's capture redirects fd 2
        # while a test runs, and the traceback must reach the host
        try:
            self._fd = os.dup(2)
        except OSError:
            self._fd = None

    def limit(self):
        if not self.timed_out:
            return self.seconds
        return per_test_timeout(self.slowest, self.seconds)

    def _timed(self, item):
        seconds = self.limit()
        old = None
        if self._fd is not None:
            faulthandler.dump_traceback_later(seconds + grace_for(seconds), exit=True, file=self._fd)
        if self._can_signal:
            old = signal.signal(signal.SIGALRM, self._on_alarm)
            self._current = (item.nodeid, seconds)
            signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            self._current = None      # first: an alarm from here on is a no-op
            if self._can_signal:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old if old is not None else signal.SIG_DFL)
            if self._fd is not None:
                faulthandler.cancel_dump_traceback_later()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item):
        yield from self._timed(item)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        yield from self._timed(item)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item):
        yield from self._timed(item)

    def _on_alarm(self, signum, frame):
        __tracebackhide__ = True      # pytest's report ends at the test's own line
        current = self._current
        if current is None:
            return
        if frame is not None and frame.f_code.co_filename.startswith(self._harness):
            signal.setitimer(signal.ITIMER_REAL, 0.02)   # raise once the test's own code runs again
            return
        nodeid, seconds = current
        if nodeid not in self._fired:
            self._fired.add(nodeid)
            self.timed_out += 1
            self.emit({"kind": "timeout", "nodeid": nodeid, "seconds": seconds})
        signal.setitimer(signal.ITIMER_REAL, REPEAT_S)
        raise TestTimeout(MESSAGE)

    def pytest_runtest_logreport(self, report):
        spent = self._spent.get(report.nodeid, 0.0) + float(getattr(report, "duration", 0.0) or 0.0)
        if report.failed:
            spent = -1e9              # never counts as a passing test's time
        self._spent[report.nodeid] = spent
        if report.when == "teardown":
            spent = self._spent.pop(report.nodeid, -1.0)
            if spent >= 0 and report.nodeid not in self._fired:
                self.slowest = max(self.slowest, spent)

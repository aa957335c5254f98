"""pytest plugin that records each test's outcome as a structured record (guest side).

Shared by runner.py (cold runs: records go to a report file) and warm_worker.py (records go
over a private pipe to the worker). It never prints: console text is for humans only and is
never used to judge a run. Runs on the sandbox's interpreter (Debian bookworm: Python 3.11,
pytest 7.2) as well as the host's, so it uses only long-stable pytest hooks.

Record kinds, in order:
  {"kind": "collected", "nodeids": [...]}                 after collection
  {"kind": "test", "nodeid", "outcome", "longrepr", "duration"}   once per test, after teardown
  {"kind": "finished", "exitstatus": N, "reported": K}  last, only when the session ends normally
outcome is one of passed, failed, error (setup/teardown failed), skipped (includes xfail).
"""
from __future__ import annotations

import os
import re


class Recorder:
    def __init__(self, emit):
        self._emit = emit
        self._current: dict[str, dict] = {}
        self.reported = 0

    def pytest_collection_finish(self, session):
        self._emit({"kind": "collected", "nodeids": [item.nodeid for item in session.items]})

    def pytest_runtest_logreport(self, report):
        rec = self._current.setdefault(report.nodeid, {
            "kind": "test", "nodeid": report.nodeid, "outcome": "passed", "longrepr": "", "duration": 0.0})
        rec["duration"] += float(getattr(report, "duration", 0.0) or 0.0)
        text = ""
        if report.longrepr is not None:
            try:
                text = str(report.longrepr)
            except Exception as e:  # a broken __repr__ in user code must not kill the recording
                text = f"<longrepr unavailable: {type(e).__name__}>"
        if report.when == "call":
            if report.failed:
                rec["outcome"], rec["longrepr"] = "failed", text
            elif report.skipped:
                rec["outcome"], rec["longrepr"] = "skipped", text
        elif report.failed:  # setup or teardown
            if rec["outcome"] != "failed":
                rec["outcome"] = "error"
            rec["longrepr"] = (rec["longrepr"] + "\n" + text).strip()
        elif report.skipped and report.when == "setup":
            rec["outcome"], rec["longrepr"] = "skipped", text

    def pytest_runtest_logfinish(self, nodeid, location):
        rec = self._current.pop(nodeid, None)
        if rec is not None:
            self.reported += 1
            self._emit(rec)

    def pytest_collectreport(self, report):
        # A module that fails to import is an error, not a silent zero-test run.
        if report.failed:
            self._emit({"kind": "test", "nodeid": report.nodeid or "<collection>", "outcome": "error",
                        "longrepr": str(report.longrepr), "duration": 0.0})


class Coverage:
    """Per-test line coverage (dynamic contexts), for spectrum-based fault localization."""

    def __init__(self, source: str):
        import coverage

        self.source = source
        self.cov = coverage.Coverage(data_file=None, source=[source], branch=False)
        self.cov.start()

    def pytest_runtest_setup(self, item):
        self.cov.switch_context(item.nodeid)

    def result(self) -> dict:
        self.cov.stop()
        data = self.cov.get_data()
        out: dict[str, dict[str, list[int]]] = {}
        for ctx in data.measured_contexts():
            if not ctx:
                continue
            # query contexts are regexes: a parametrized id like "t[/m~0n-8]" must match literally
            data.set_query_contexts(["^" + re.escape(ctx) + "$"])
            files = {}
            for f in data.measured_files():
                lines = data.lines(f) or []
                if lines:
                    files[os.path.relpath(f, self.source)] = sorted(lines)
            out[ctx] = files
        return out


def jsonl_writer(fd: int):
    """An emit function writing one JSON line per record with a single write() each."""
    import json

    def emit(record: dict) -> None:
        data = (json.dumps(record) + "\n").encode()
        while data:
            n = os.write(fd, data)
            data = data[n:]

    return emit

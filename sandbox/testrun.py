"""Running a repository's tests in a sandbox and reading the results (host side).

Two ways, same result type:
- `run_tests_cold(sandbox, pytest_args, timeout)`: one fresh `python3 runner.py` execution; the
  runner writes a JSON-lines report file inside the sandbox and we read that file.
- `WarmWorker(sandbox).run(changed_files, pytest_args, timeout)`: a long-lived worker in the
  sandbox with pytest and the third-party imports already loaded forks a fresh child per
  candidate; records come back over a pipe private to that child.

In both, results are structured records written by our pytest plugin (guest/recorder.py),
never console text, each sealed with a per-run key (lines without a valid seal make the run
incomplete), and a run counts as complete only if the plugin's "finished" record
arrived, every collected test was reported, and the process exit status agrees. Tests
without a record in an incomplete run are reported as "error" — a candidate that prints a
fake result or calls os._exit(0) mid-test therefore fails.

Nothing the sandbox wrote is trusted as a host fact:
- report and coverage files are read as regular files only, never through a link, never
  blocking (a FIFO), with a size cap (sandbox.core.files.read_untrusted and the docker
  backend's reader); anything else makes the run incomplete and a `report_tamper` event;
- a test file, conftest.py or pytest configuration that changed during the run (the runner's
  and the warm worker's hashes) fails every test of the run and is a `test_tamper` event;
- a test reported passed whose own code did not run to its end (recorder.py) is failed and
  a `fake_pass` event; processes the run left behind are a `lingering_process` event;
- terminal control characters (ESC, BEL, C1, bidi overrides) in node ids, failure texts and
  output are escaped (`\x1b`) before anything shows them, and reported as `terminal_escape`.
These events travel in ExecResult.audit_events as sandbox.audit.events.HostFinding, which
nothing parsed from the sandbox's output can be.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import asdict, dataclass

from ouro.sandbox.base import EndReason, ExecResult, SandboxError

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"


@dataclass
class TestOutcome:
    __test__ = False  # not a pytest test class despite the name

    nodeid: str
    outcome: str          # passed | failed | error | skipped
    longrepr: str = ""    # the failure's traceback text as pytest formats it
    duration_s: float = 0.0


@dataclass
class TestRun:
    __test__ = False

    outcomes: dict[str, TestOutcome]
    collected: list[str]
    complete: bool                    # the session finished normally and reported every test
    exec: ExecResult
    exit_status: int | None = None    # pytest's exit status from the "finished" record
    problem: str = ""                 # why the run is incomplete, for humans
    coverage: dict | None = None      # nodeid -> {relative file -> [lines]} when asked for
    seconds: float = 0.0

    @property
    def passed(self) -> set[str]:
        return {n for n, o in self.outcomes.items() if o.outcome == PASSED}

    @property
    def failed(self) -> set[str]:
        """Failed or errored tests (including those an incomplete run never reported)."""
        return {n for n, o in self.outcomes.items() if o.outcome in (FAILED, ERROR)}

    @property
    def all_passed(self) -> bool:
        return self.complete and bool(self.collected) and not self.failed

    def outcome(self, nodeid: str) -> str:
        o = self.outcomes.get(nodeid)
        return o.outcome if o else ERROR

    def to_dict(self) -> dict:
        d = asdict(self)
        d["exec"] = self.exec.to_dict()
        return d


def workspace_inodes(limits) -> int:
    """Files a bound workspace may hold: 256 per MB of disk_mb (131,072 for 512 MB), at least 4,096."""
    return max(4096, limits.disk_mb * 256)


def parse_records(lines: list[str]) -> list[dict]:
    """JSON records from report lines; a torn or foreign line is skipped, never trusted."""
    out = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("kind"), str):
            out.append(rec)
    return out


KEY_PREFIX = "OURO-KEY "  # guest/runner.py's first stdout line: the key its records are sealed with


def take_key(stdout: str) -> tuple[bytes | None, str]:
    """(the runner's report key, stdout without that line). Only the FIRST line counts: the
    runner writes it before any test code is imported, so later look-alikes are the test's."""
    first, sep, rest = stdout.partition("\n")
    if not first.startswith(KEY_PREFIX):
        return None, stdout
    try:
        return bytes.fromhex(first[len(KEY_PREFIX):].strip()), rest
    except ValueError:
        return None, stdout


def unseal_lines(key: bytes | None, lines: list[str]) -> list[dict]:
    """The records sealed with `key`; a {"kind": "forged"} record counts the lines that were not."""
    from ouro.sandbox.guest.recorder import unseal

    if key is None:
        return [{"kind": "forged", "count": len([ln for ln in lines if ln.strip()])}] if lines else []
    records, bad = unseal(key, lines)
    if bad:
        records.append({"kind": "forged", "count": bad})
    return records


from ouro.sandbox.core.text import escape_control  # noqa: E402  (re-exported: testrun.escape_control)


def _finding(result: ExecResult, kind: str, detail: str, source: str = "host") -> None:
    from ouro.sandbox.audit.events import HostFinding

    result.audit_events = list(result.audit_events or []) + [HostFinding(kind, detail, source)]


def _clean(run: "TestRun") -> "TestRun":
    """Escape terminal control characters in everything a human or a model will read."""
    ex = run.exec
    before = (ex.stdout, ex.stderr, run.problem, tuple(run.collected), tuple(run.outcomes),
              tuple(o.longrepr for o in run.outcomes.values()))
    ex.stdout, ex.stderr = escape_control(ex.stdout), escape_control(ex.stderr)
    run.problem = escape_control(run.problem)
    run.collected = [escape_control(n) for n in run.collected]
    outcomes = {}
    for nodeid, o in run.outcomes.items():
        o.nodeid, o.longrepr = escape_control(o.nodeid), escape_control(o.longrepr)
        outcomes[o.nodeid] = o
    run.outcomes = outcomes
    after = (ex.stdout, ex.stderr, run.problem, tuple(run.collected), tuple(run.outcomes),
             tuple(o.longrepr for o in run.outcomes.values()))
    if before != after:
        where = [name for name, b, a in zip(("stdout", "stderr", "problem", "node ids", "node ids", "failure texts"),
                                            before, after) if b != a]
        _finding(ex, "terminal_escape", f"terminal control characters escaped in the test run's "
                                        f"{', '.join(dict.fromkeys(where))}")
    return run


def build_run(records: list[dict], result: ExecResult, *, coverage: dict | None = None) -> TestRun:
    """Judge a run from the plugin's records plus the process's own end (exit status, reason)."""
    collected: list[str] = []
    outcomes: dict[str, TestOutcome] = {}
    finished = None
    forged = 0
    for rec in records:
        kind = rec["kind"]
        if kind == "forged":
            forged += int(rec.get("count", 1) or 1)
            continue
        if kind == "collected":
            collected = [str(n) for n in rec.get("nodeids", [])]
        elif kind == "test" and finished is None:
            nodeid = str(rec.get("nodeid", ""))
            outcome = rec.get("outcome")
            if outcome not in (PASSED, FAILED, ERROR, SKIPPED):
                outcome = ERROR
            outcomes[nodeid] = TestOutcome(nodeid, outcome, str(rec.get("longrepr", "")),
                                           float(rec.get("duration", 0.0) or 0.0))
            if rec.get("fake_pass"):
                _finding(result, "fake_pass", f"{nodeid}: reported passed, but {rec.get('fake_pass')} "
                                              f"(the test's own code did not run to its end); judged failed",
                         source="runner")
        elif kind == "finished" and finished is None:
            finished = rec
    problem = ""
    exit_status = finished.get("exitstatus") if finished else None
    tamper = [str(p) for p in (finished.get("tamper") or [])] if finished else []
    if tamper:
        _finding(result, "test_tamper", f"changed during the run: {', '.join(tamper[:8])}", source="runner")
    if tamper:
        # the tests that ran are not the tests under review: none of their passes count
        problem = f"test files or pytest configuration changed during the run: {', '.join(tamper[:5])}"
        for o in outcomes.values():
            if o.outcome in (PASSED, SKIPPED):
                o.outcome, o.longrepr = ERROR, f"ouro: {problem}\n{o.longrepr}".strip()
    elif forged:
        # someone else wrote into the report channel: nothing in it can be trusted to be complete
        problem = f"{forged} report lines were not sealed by the recorder (forged)"
    elif result.reason != EndReason.NORMAL:
        problem = f"the test process ended abnormally: {result.reason.value}"
    elif finished is None:
        problem = f"the test session did not finish (exit code {result.exit_code}); no final record"
    elif result.exit_code != exit_status:
        problem = f"exit code {result.exit_code} disagrees with pytest's status {exit_status}"
    elif exit_status not in (0, 1, 5):
        problem = f"pytest ended with status {exit_status} (interrupted, internal or usage error)"
    else:
        missing = [n for n in collected if n not in outcomes]
        if missing:
            problem = f"{len(missing)} collected tests were never reported"
    complete = not problem
    if not complete:
        for n in collected:
            if n not in outcomes:
                outcomes[n] = TestOutcome(n, ERROR, f"no result: {problem}")
    return _clean(TestRun(outcomes=outcomes, collected=collected, complete=complete, exec=result,
                          exit_status=exit_status, problem=problem, coverage=coverage,
                          seconds=result.duration_s))


def run_tests_cold(sandbox, pytest_args: list[str], timeout: float, *, coverage: bool = False,
                   env: dict[str, str] | None = None) -> TestRun:
    """Run pytest once in a fresh interpreter inside `sandbox`, in its workspace."""
    python, guest, tmp = sandbox.python, sandbox.guest_dir, sandbox.tmpdir
    tag = uuid.uuid4().hex
    report = f"{tmp}/ouro-report-{tag}.jsonl"
    cov_file = f"{tmp}/ouro-coverage-{tag}.json"
    argv = [python, f"{guest}/runner.py", "--report", report]
    if coverage:
        argv += ["--coverage", cov_file]
    argv += ["--", *pytest_args]
    result = sandbox.exec(argv, timeout=timeout, env=env, cwd=sandbox.workspace)
    key, result.stdout = take_key(result.stdout)
    data, refused = _read_back(sandbox, report)
    lines = data.decode("utf-8", "replace").splitlines() if data else []
    if refused:
        _finding(result, "report_tamper", f"the test report: {refused}")
        lines.append("not a sealed record: the report file was replaced")  # makes the run incomplete
    cov = None
    if coverage:
        data, refused = _read_back(sandbox, cov_file)
        if refused:
            _finding(result, "report_tamper", f"the coverage file: {refused}")
        try:
            cov = json.loads(data) if data else None
        except ValueError:
            cov = None
    return build_run(unseal_lines(key, lines), result, coverage=cov)


def _read_back(sandbox, path: str) -> tuple[bytes | None, str]:
    """(content, "") or (None, why it was refused): a file the sandbox wrote, read as a regular
    file only, never through a link, never blocking (the backends' read_file does the reading)."""
    from ouro.sandbox.core.files import UntrustedFileError

    try:
        return sandbox.read_file(path), ""
    except UntrustedFileError as e:
        return None, str(e).split(": ", 1)[-1][:200]
    except FileNotFoundError as e:
        if "not a regular file" in str(e):  # the docker backend's reader in the sandbox said so
            return None, "not a regular file (a link, FIFO or device in its place)"
        return None, ""
    except (OSError, SandboxError, KeyError, ValueError):
        return None, ""


class WarmWorker:
    """Host side of guest/warm_worker.py: one warm worker process inside `sandbox`.

    run(changed_files, ...) validates one candidate. changed_files maps workspace-relative
    paths to their new content (None deletes the file) RELATIVE TO THE ORIGINAL WORKSPACE:
    the worker first restores every file an earlier candidate changed, so candidates never
    see each other's edits. A worker that dies or stops answering is killed and restarted;
    that candidate's run is reported incomplete.
    """

    def __init__(self, sandbox, *, preload: list[str] | None = None, start_timeout: float = 120.0,
                 output_bytes: int | None = None, env: dict[str, str] | None = None):
        self.sandbox = sandbox
        self.env = dict(env or {})   # the worker's environment (e.g. PYTHONPATH for a src/ layout)
        self.preload = list(preload or [])
        self.start_timeout = start_timeout
        limits = sandbox.policy.limits
        self.output_bytes = output_bytes or limits.output_bytes
        # only where the workspace has no size of its own (bwrap binds a host directory)
        bound = sandbox.backend == "bwrap"
        self.disk_bytes = (limits.disk_mb << 20) if bound else None
        self.disk_inodes = workspace_inodes(limits) if bound else None
        # kill what a candidate leaves behind: only where the sandbox has a pid namespace of its own
        self.reap = sandbox.backend in ("docker", "gvisor", "bwrap")
        self.restarts = 0
        self.preloaded: list[str] = []
        # original content of every path a candidate ever changed (None: did not exist), as
        # the worker reported it before running that candidate; sent with every request so a
        # restarted worker never mistakes a dead candidate's files for the originals
        self._originals: dict[str, bytes | None] = {}
        self._proc = None
        self._next_id = 0
        self._start()

    def _start(self) -> None:
        self._proc = self.sandbox.spawn([self.sandbox.python, f"{self.sandbox.guest_dir}/warm_worker.py", *self.preload],
                                        cwd=self.sandbox.workspace, env=self.env or None)
        line = self._proc.readline(timeout=self.start_timeout)
        try:
            hello = json.loads(line)
        except ValueError:
            hello = {}
        if hello.get("kind") != "ready":
            tail = self._proc.stderr_tail()[-2000:]
            self._proc.kill()
            raise SandboxError(f"warm worker did not start: {line[:200]!r} {tail}")
        self.preloaded = list(hello.get("preloaded", []))

    def restart(self) -> None:
        if self._proc is not None:
            self._proc.kill()
        self.restarts += 1
        self._start()

    def run(self, changed_files: dict[str, bytes | None], pytest_args: list[str], timeout: float) -> TestRun:
        if self._proc is None or not self._proc.alive():
            self.restart()
        self._next_id += 1
        state = {p: c for p, c in self._originals.items() if p not in changed_files}
        state.update(changed_files)
        req = {
            "id": self._next_id,
            "changed": {p: (None if c is None else base64.b64encode(c).decode()) for p, c in state.items()},
            "args": list(pytest_args),
            "timeout": float(timeout),
            "output_bytes": int(self.output_bytes),
            # only where the workspace has no size of its own (bwrap binds a host directory)
            "disk_bytes": self.disk_bytes,
            "disk_inodes": self.disk_inodes,
            "reap": self.reap,
            "spare": self._spare(),
        }
        reply = None
        try:
            self._proc.write((json.dumps(req) + "\n").encode())
            # the worker enforces `timeout` itself; the margin covers its own bookkeeping
            deadline = time.monotonic() + timeout + 30
            while True:
                line = self._proc.readline(timeout=max(0.0, deadline - time.monotonic()))
                msg = json.loads(line) if line else None
                if isinstance(msg, dict) and msg.get("kind") == "originals" and msg.get("id") == req["id"]:
                    for p, c in msg.get("files", {}).items():
                        self._originals.setdefault(p, None if c is None else base64.b64decode(c))
                    continue
                reply = msg
                break
        except (OSError, ValueError):
            reply = None
        if not isinstance(reply, dict) or reply.get("id") != req["id"]:
            died = not self._proc.alive()
            # the worker's own stderr (audit lines split out) says what happened to it
            tail = self._proc.stderr_tail()
            from ouro.sandbox.proc import split_audit_stream

            tail = split_audit_stream(tail)[0][-2000:]
            self.restart()
            result = ExecResult(exit_code=None, stdout="",
                                stderr=("warm worker died" if died else "warm worker stopped answering") + "\n" + tail,
                                duration_s=0.0, reason=EndReason.KILLED if died else EndReason.TIMEOUT)
            return build_run([], result)
        from ouro.sandbox.proc import split_audit_stream

        stderr, events = split_audit_stream(reply.get("stderr", ""))
        result = ExecResult(
            exit_code=reply.get("exit_code"),
            stdout=reply.get("stdout", ""),
            stderr=stderr,
            duration_s=float(reply.get("duration_s", 0.0)),
            reason=EndReason(reply.get("reason", "killed")),
            stdout_truncated=bool(reply.get("stdout_truncated")),
            stderr_truncated=bool(reply.get("stderr_truncated")),
            audit_events=events,
        )
        # the worker already dropped lines not sealed with its key and counted them as "forged"
        records = [r for r in reply.get("records", []) if isinstance(r, dict) and isinstance(r.get("kind"), str)]
        checks = reply.get("worker") if isinstance(reply.get("worker"), dict) else {}
        tamper = [str(p) for p in checks.get("tamper") or []]
        if tamper:  # seen by the worker after the run, outside the child: the run fails
            for r in records:
                if r.get("kind") == "finished":
                    r["tamper"] = sorted(set(r.get("tamper") or []) | set(tamper))
            if not any(r.get("kind") == "finished" for r in records):
                _finding(result, "test_tamper", f"changed during the run: {', '.join(tamper[:8])}", source="worker")
        drift = [str(p) for p in checks.get("drift") or []]
        if drift:
            _finding(result, "workspace_tamper", f"the run changed tracked files (undone before the next candidate): "
                                                 f"{', '.join(drift[:8])}", source="worker")
        left = checks.get("left") or 0
        if isinstance(left, int) and left > 0:
            _finding(result, "lingering_process", f"{left} process(es) of the sandbox uid outlived the candidate's "
                                                  f"run (killed by the warm worker)", source="worker")
        return build_run(records, result)

    def _spare(self) -> list[int]:
        """In-sandbox pids that are not a candidate's leftovers: the backend's own helper shell."""
        killer = getattr(self.sandbox, "_killer", None)
        pid = getattr(killer, "pid", None)
        return [pid] if isinstance(pid, int) else []

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc = None

    def __enter__(self) -> "WarmWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

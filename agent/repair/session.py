"""The repair's sandbox: cold runs (reproduce, re-runs of plausible patches) and warm runs
(candidates), over one sandbox opened for the purpose "repair".

A candidate's files are given relative to the original workspace; the session remembers
every file any candidate touched, so a cold run of one state first resets all of them and
candidates never see each other's edits.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from ouro.sandbox.base import ExecResult

log = logging.getLogger(__name__)


class SandboxSession:
    def __init__(self, sandbox, workspace_dir: Path, on_exec: Callable[[ExecResult], None]):
        self.sandbox = sandbox
        self.on_exec = on_exec
        self.workspace_dir = workspace_dir
        self.worker = None
        self._worker_failed = False
        self.touched: set[str] = set()
        self.base: dict[str, bytes | None] = {}
        self.env: dict[str, str] = {}   # every test process's environment (the project's PYTHONPATH)

    @classmethod
    def open(cls, policy, workspace_dir: Path, run_id: str, on_exec, *, unsafe_local: bool, audit: bool,
             home: Path | None = None, request=None) -> "SandboxSession":
        """request: what the environment must be (sandbox.images.EnvRequest; default: what the
        repository declares)."""
        from ouro.sandbox.backends import open_sandbox

        sandbox = open_sandbox(policy, "repair", workspace=workspace_dir, labels={"ouro.run": run_id},
                               unsafe_local=unsafe_local, audit=audit, home=home, request=request)
        return cls(sandbox, workspace_dir, on_exec)

    def cold(self, pytest_args: list[str], timeout: float, coverage: bool = False):
        from ouro.sandbox.testrun import run_tests_cold

        run = run_tests_cold(self.sandbox, pytest_args, timeout, coverage=coverage, env=self.env or None)
        self.on_exec(run.exec)
        return run

    def _original(self, rel: str) -> bytes | None:
        if rel not in self.base:
            p = self.workspace_dir / rel
            self.base[rel] = p.read_bytes() if p.exists() else None
        return self.base[rel]

    def cold_with(self, files: dict[str, bytes | None], pytest_args: list[str], timeout: float):
        """A cold run of one state: every file any candidate touched is reset first."""
        self.close_worker()
        paths = self.touched | set(files)
        state = {p: self._original(p) for p in paths}
        state.update(files)
        self._write(state)
        try:
            return self.cold(pytest_args, timeout)
        finally:
            self._write({p: self._original(p) for p in paths})

    def add_files(self, files: dict[str, bytes]) -> None:
        """New files of the repair's own (a reproduction test): written to the workspace and
        into the sandbox, and part of the original state every later run starts from."""
        for rel, data in files.items():
            p = self.workspace_dir / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            self.base[rel] = data
        self.close_worker()   # a warm worker snapshots the originals when it starts
        self._write(dict(files))

    def _write(self, state: dict[str, bytes | None]) -> None:
        writes = {p: c for p, c in state.items() if c is not None}
        deletes = [p for p, c in state.items() if c is None]
        if writes:
            self.sandbox.write_files(writes)
        if deletes:
            self.sandbox.delete_files(deletes)

    def candidate(self, files: dict[str, bytes | None], pytest_args: list[str], timeout: float):
        """A candidate run: in the warm worker when it works, else cold."""
        self.touched |= set(files)
        if self.worker is None and not self._worker_failed:
            try:
                from ouro.sandbox.testrun import WarmWorker

                self.worker = WarmWorker(self.sandbox, env=self.env)
            except Exception as e:  # no warm worker on this backend/guest: cold runs still work
                self._worker_failed = True
                log.warning("warm worker unavailable (%s); validating with cold runs", str(e)[:120])
        if self.worker is not None:
            run = self.worker.run(files, pytest_args, timeout)
            self.on_exec(run.exec)
            return run
        return self.cold_with(files, pytest_args, timeout)

    def close_worker(self) -> None:
        if self.worker is not None:
            try:
                self.worker.close()
            finally:
                self.worker = None

    def close(self) -> None:
        try:
            self.close_worker()
        finally:
            self.sandbox.close()

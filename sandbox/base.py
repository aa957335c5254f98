"""The one sandbox interface every backend implements (docker, gvisor, bwrap, local).

A sandbox holds one workspace (a copy of a repository) at `Sandbox.workspace` inside it.
Code runs with `exec` (one command, hard timeout, capped output) or `spawn` (a long-lived
process with pipes, used by the warm pool's worker). Files move with `write_files`,
`read_file`, `copy_in` and `copy_out`; the host never shares a writable directory with
the sandbox, so what the code under test writes stays inside until we read it.
"""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

# Every container/process ouro starts carries this label so leftovers can be reaped.
LABEL = "ouro.sandbox"


class EndReason(str, enum.Enum):
    """Why an execution ended."""

    NORMAL = "normal"          # the process exited by itself (any exit code)
    TIMEOUT = "timeout"        # wall-clock limit hit; we killed it
    OOM = "oom"                # out of memory (OOM killer or MemoryError at the limit)
    PIDS_LIMIT = "pids_limit"  # fork failed at the pids limit
    OUTPUT_CAP = "output_cap"  # stdout+stderr exceeded the output limit; we killed it
    DISK_LIMIT = "disk_limit"  # file size or tmpfs limit hit (EFBIG/ENOSPC/SIGXFSZ)
    KILLED = "killed"          # killed by a signal we did not send for one of the reasons above


@dataclass
class ExecResult:
    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    reason: EndReason = EndReason.NORMAL
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    # audit events the in-sandbox hook streamed out during this execution (see sandbox.audit)
    audit_events: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason == EndReason.NORMAL and self.exit_code == 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reason"] = self.reason.value
        return d


class SandboxError(Exception):
    """A backend could not start or talk to its sandbox (daemon missing, image missing...)."""


@runtime_checkable
class SandboxProcess(Protocol):
    """A long-lived process inside a sandbox, talked to over its stdin/stdout."""

    def write(self, data: bytes) -> None: ...
    def readline(self, timeout: float | None = None) -> bytes: ...
    def kill(self) -> None: ...
    def alive(self) -> bool: ...


@runtime_checkable
class Sandbox(Protocol):
    backend: str
    workspace: str  # absolute path of the workspace as seen inside the sandbox

    def exec(
        self,
        argv: list[str],
        *,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> ExecResult: ...

    def spawn(self, argv: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None) -> SandboxProcess: ...

    def write_files(self, files: dict[str, bytes]) -> None:
        """Write files given by workspace-relative path (creating directories)."""

    def delete_files(self, paths: list[str]) -> None: ...

    def read_file(self, path: str) -> bytes:
        """Read a file by workspace-relative or absolute in-sandbox path."""

    def copy_in(self, host_dir: Path) -> None:
        """Replace the workspace content with a copy of host_dir."""

    def copy_out(self, host_dir: Path) -> None:
        """Copy the workspace out to host_dir."""

    def close(self) -> None: ...

    def __enter__(self) -> "Sandbox": ...
    def __exit__(self, *exc) -> None: ...

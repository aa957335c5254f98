"""The one sandbox interface every backend implements (docker, gvisor, bwrap, local).

A sandbox holds one workspace (a copy of a repository) at `Sandbox.workspace` inside it.
Code runs with `exec` (one command, hard timeout, capped output) or `spawn` (a long-lived
process with pipes, used by the warm pool's worker). Files move with `write_files`,
`read_file`, `copy_in` and `copy_out`; the host never shares a writable directory with
the sandbox, so what the code under test writes stays inside until we read it.

`SandboxBase` holds what every backend shares, above all the environment of the processes
it starts (`guest_env`): one precedence on every backend, so no caller can switch the audit
hook off by passing an environment.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ouro.sandbox.core.errors import EXIT_PRECONDITION, OuroError

if TYPE_CHECKING:
    from ouro.sandbox.policy import SandboxPolicy

# Every container/process ouro starts carries this label so leftovers can be reaped.
LABEL = "ouro.sandbox"
# ouro's guest code (test runner, warm worker, audit hook) on the host, and where every
# backend makes it visible, read-only, inside the sandbox
log = logging.getLogger(__name__)

GUEST_DIR = Path(__file__).resolve().parent / "guest"
# Pythons whose user site (PYTHONUSERBASE/lib/pythonX.Y/site-packages) loads the audit hook
# before any dependency's .pth: 3.8 has audit hooks; 3.7 has none (the boot path then
# records audit_error)
USER_SITE_VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")


def ensure_userbase(guest: Path = GUEST_DIR) -> None:
    """guest/userbase/lib/pythonX.Y/site-packages, each a link to the one userbase/site-packages.
    The repository carries them; a wheel cannot hold links, so an installed ouro makes them
    here, on first use. Where that is not allowed, the hook still loads from boot/ (after the
    dependencies' .pth files: the weaker guarantee docs/audit.md describes)."""
    for version in USER_SITE_VERSIONS:
        link = guest / "userbase" / "lib" / f"python{version}" / "site-packages"
        if link.is_dir():
            continue
        try:
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(Path("..") / ".." / "site-packages")
        except OSError as e:
            log.warning("the audit hook's user site for Python %s could not be made (%s)", version, e)
            return
GUEST_IN_SANDBOX = "/opt/ouro/guest"
# what never travels into a sandbox's workspace: version control, caches, virtualenvs
COPY_EXCLUDES = frozenset({".git", ".ouro", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", "node_modules"})


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


class SandboxError(OuroError):
    """Every error of the sandbox layer derives from this one. By default a precondition not
    met (exit 3): a backend could not start or talk to its sandbox (daemon missing, image
    missing...); subclasses for bad input say exit 2."""

    exit_code = EXIT_PRECONDITION


@runtime_checkable
class SandboxProcess(Protocol):
    """A long-lived process inside a sandbox, talked to over its stdin/stdout."""

    def write(self, data: bytes) -> None: ...
    def readline(self, timeout: float | None = None) -> bytes: ...
    def kill(self) -> None: ...
    def alive(self) -> bool: ...
    def stderr_tail(self) -> str:
        """What the process wrote to stderr lately (for the message when it dies)."""
    def read_stderr(self) -> str:
        """What it wrote to stderr since the last call, all of it (up to a bound that says when
        it dropped some): the in-sandbox audit hook's events of a long-lived process are in it."""


@runtime_checkable
class Sandbox(Protocol):
    backend: str          # docker | gvisor | bwrap | local
    workspace: str        # absolute path of the workspace as seen inside the sandbox
    python: str           # the interpreter to run, as seen inside the sandbox
    guest_dir: str        # ouro's guest code (runner, warm worker, audit hook) inside the sandbox
    tmpdir: str           # where report and coverage files go, readable with read_file
    policy: "SandboxPolicy"
    audit: bool           # the in-sandbox audit hook is installed in every Python process
    labels: dict[str, str]

    def guest_env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """The environment a process started with `env` gets inside the sandbox."""

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

    def copy_out(self, host_dir: Path, src: str | None = None, max_bytes: int = 1 << 30) -> None:
        """Copy the workspace out to host_dir; or the in-sandbox directory `src` (the build's
        output), never following a link it holds, to host_dir, which must not exist yet."""

    def close(self) -> None: ...

    def __enter__(self) -> "Sandbox": ...
    def __exit__(self, *exc) -> None: ...


class SandboxBase:
    """What the backends share. A subclass sets `backend`, `workspace`, `python`, `guest_dir`
    and `tmpdir` as class attributes or in __init__, calls `_init_common`, and gives its
    fixed environment in `base_env()`."""

    backend = ""
    workspace = "/workspace"
    python = "python3"
    guest_dir = GUEST_IN_SANDBOX
    tmpdir = "/tmp"
    path_prefix = ""   # an environment's interpreter directory, first on PATH (a host interpreter)
    environment = None  # the images.Environment it runs (the backend's start sets it), None for a bare one

    def _init_common(self, policy: "SandboxPolicy", audit: bool, labels: dict[str, str] | None) -> None:
        self.policy = policy
        self.audit = audit
        self.labels = dict(labels or {})

    def _path(self, default: str) -> str:
        return f"{self.path_prefix}:{default}" if self.path_prefix else default

    def base_env(self) -> dict[str, str]:
        """The backend's own variables (PATH, HOME, ...), before the caller's."""
        return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
                "PYTHONDONTWRITEBYTECODE": "1"}

    def guest_env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """The backend's variables, then the caller's, then what the audit requires, which a
        caller cannot override: the hook's boot directory first on PYTHONPATH (a caller's
        PYTHONPATH follows it), OURO_AUDIT=1, and the policy's deny/kill rules unless the
        caller passes rules of its own (the self-test does, to try a rule)."""
        out = self.base_env()
        out.update(env or {})
        off = self.environment.pytest_plugins_off if self.environment is not None else ()
        if off:   # plugins that cannot load with the environment's pytest (sandbox/guest/pytest_plugins.py)
            out["PYTEST_ADDOPTS"] = " ".join([*(f"-p no:{name}" for name in off), out.get("PYTEST_ADDOPTS", "")]).strip()
        if self.audit:
            boot = f"{self.guest_dir}/boot"
            out["PYTHONPATH"] = boot + (":" + out["PYTHONPATH"] if out.get("PYTHONPATH") else "")
            out["OURO_AUDIT"] = "1"
            # guest/userbase's .pth loads the hook before any dependency's .pth or *customize runs
            ensure_userbase()
            out["PYTHONUSERBASE"] = f"{self.guest_dir}/userbase"
            from ouro.sandbox.audit.rules import guest_env as rules_env

            for k, v in rules_env(self.policy.audit_rules).items():
                out.setdefault(k, v)
        return out

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - every backend overrides it
        raise NotImplementedError

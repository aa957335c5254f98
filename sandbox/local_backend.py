"""The `local` backend: NO isolation. Plain host subprocesses on a temp-dir copy of the workspace.

It exists for machines with neither Docker nor bubblewrap, and for fast development. It keeps
every rule that does not need isolation (hard timeout, output cap, end reasons, rlimits for
files, memory and core dumps) so results mean the same as on the real backends, but the code
under test can read and write anything the user can. Hence: it refuses to start unless the
caller passes unsafe_local=True (the CLI's --unsafe-local), it warns on stderr every time
it starts or runs something, so nobody uses it by accident, and each start is recorded in the
project's audit log as a `sandbox_disable` event (the sandbox was switched off).
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

from ouro.sandbox.base import GUEST_DIR, ExecResult, SandboxError
from ouro.sandbox.hostdir import HostDirSandbox, resolve_inside
from ouro.sandbox.policy import SandboxPolicy
from ouro.sandbox.proc import PipeProcess, RLimits, run_capped

log = logging.getLogger(__name__)
class UnsafeLocalRefused(SandboxError):
    """The local backend was asked for without --unsafe-local (exit 2: the command line's fault)."""

    exit_code = 2


def require_unsafe_local(backend: str, unsafe_local: bool) -> None:
    """Refuse the local backend unless the user said --unsafe-local (checked early by every
    command, before any work; LocalSandbox.start refuses again)."""
    if backend == "local" and not unsafe_local:
        raise UnsafeLocalRefused("the local backend isolates nothing; pass --unsafe-local to use it")


def warn_unsafe(what: str) -> None:
    log.warning("UNSAFE local backend, no isolation: %s", what)


def record_unsafe_use(workspace: str, labels: dict[str, str], home=None) -> None:
    """Append a `sandbox_disable` event to the audit log of `home` (--home, OURO_HOME or ./.ouro)."""
    try:
        from ouro.sandbox.core.home import OuroHome
        from ouro.sandbox.audit.events import make_event
        from ouro.sandbox.audit.log import default_log

        event = make_event("sandbox_disable", f"unsafe local backend started, no isolation: {workspace}",
                           source="backend", backend="local", run_id=labels.get("ouro.run") or labels.get("run_id"))
        h = OuroHome.resolve(home)
        h.audit_dir.mkdir(parents=True, exist_ok=True)
        default_log(h).append(event)
    except Exception as e:  # the warning on stderr stands even when the log cannot be written
        log.warning("could not record the unsafe local run in the audit log: %s", e)


class LocalSandbox(HostDirSandbox):
    backend = "local"

    def __init__(self, policy: SandboxPolicy, root: Path, audit: bool, labels: dict[str, str]):
        self._init_common(policy, audit, labels)
        self._init_host(root, root / "workspace")
        self.workspace = str(root / "workspace")
        # the in-sandbox paths other modules need, which differ from the container layout here
        self.tmpdir = str(root / "tmp")
        self.guest_dir = str(GUEST_DIR)
        self.python = sys.executable

    @classmethod
    def start(cls, policy: SandboxPolicy, *, workspace: Path | None = None, labels=None,
              unsafe_local: bool = False, audit: bool = True, home=None) -> "LocalSandbox":
        if not unsafe_local:
            raise UnsafeLocalRefused(
                "the local backend runs code with no isolation; pass --unsafe-local to allow it")
        root = Path(tempfile.mkdtemp(prefix="ouro-local-"))
        (root / "tmp").mkdir()
        sb = cls(policy, root, audit, dict(labels or {}))
        warn_unsafe(f"workspace {sb.workspace}")
        record_unsafe_use(sb.workspace, sb.labels, home)
        if workspace is not None:
            sb.copy_in(Path(workspace))
        else:
            (root / "workspace").mkdir()
        return sb

    # -- execution ---------------------------------------------------------------------
    def base_env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmpdir, "TMPDIR": self.tmpdir,
                "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
                # the hook's idea of where writes are expected (elsewhere it is /workspace)
                "OURO_WORKSPACE": self.workspace}

    def _cwd(self, cwd: str | None) -> str:
        return str(resolve_inside(Path(self.workspace), cwd)) if cwd else self.workspace

    def exec(self, argv, *, timeout=None, env=None, cwd=None) -> ExecResult:
        warn_unsafe(" ".join(argv)[:200])
        limits = self.policy.limits
        try:
            return run_capped(
                list(argv), timeout=min(timeout or limits.wall_time_s, limits.wall_time_s),
                output_bytes=limits.output_bytes, env=self.guest_env(env), cwd=self._cwd(cwd),
                rlimits=RLimits.from_policy(limits, nproc=False),
            )
        except FileNotFoundError as e:
            return ExecResult(exit_code=127, stdout="", stderr=f"{e}\n", duration_s=0.0)

    def spawn(self, argv, *, env=None, cwd=None) -> PipeProcess:
        warn_unsafe("spawn " + " ".join(argv)[:200])
        return self._track(PipeProcess(list(argv), env=self.guest_env(env), cwd=self._cwd(cwd),
                                       rlimits=RLimits.from_policy(self.policy.limits, nproc=False)))

    # -- files ---------------------------------------------------------------------------
    def write_files(self, files: dict[str, bytes]) -> None:
        for rel, data in files.items():
            target = resolve_inside(Path(self.workspace), rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def delete_files(self, paths: list[str]) -> None:
        for rel in paths:
            try:
                resolve_inside(Path(self.workspace), rel).unlink()
            except FileNotFoundError:
                pass

    def _host_path(self, path: str) -> Path:
        p = Path(path)
        if p.is_absolute() and (p == Path(self.tmpdir) or Path(self.tmpdir) in p.parents):
            return resolve_inside(Path(self.tmpdir), path)
        return resolve_inside(Path(self.workspace), path)

    def read_file(self, path: str) -> bytes:
        from ouro.sandbox.core.files import read_untrusted

        head, _, name = path.rstrip("/").rpartition("/")  # the last component is never followed
        return read_untrusted(self._host_path(head or ".") / name)


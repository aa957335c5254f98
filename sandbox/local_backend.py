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
import shutil
import sys
import tempfile
from pathlib import Path

from ouro.sandbox.base import ExecResult, SandboxBase, SandboxError
from ouro.sandbox.policy import SandboxPolicy
from ouro.sandbox.proc import PipeProcess, RLimits, run_capped

log = logging.getLogger(__name__)
GUEST_DIR = Path(__file__).resolve().parent / "guest"
# What never travels into a sandbox's workspace: stale bytecode would make a candidate's
# edit invisible (a .pyc with the same mtime and size is trusted by the importer).
# The same set the docker backend leaves out (VCS data, caches, virtualenvs).
COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ouro", ".venv",
                                     ".git", "node_modules")


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


def resolve_inside(root: Path, path: str) -> Path:
    """The host path for a sandbox path, refusing anything that escapes root (.. or symlinks)."""
    p = Path(path)
    full = (root / p) if not p.is_absolute() else p
    real = Path(os.path.realpath(full))
    root_real = Path(os.path.realpath(root))
    if real != root_real and root_real not in real.parents:
        raise SandboxError(f"path {path!r} resolves outside the sandbox")
    return real


class LocalSandbox(SandboxBase):
    backend = "local"

    def __init__(self, policy: SandboxPolicy, root: Path, audit: bool, labels: dict[str, str]):
        self._init_common(policy, audit, labels)
        self._root = root
        self.workspace = str(root / "workspace")
        # the in-sandbox paths other modules need, which differ from the container layout here
        self.tmpdir = str(root / "tmp")
        self.guest_dir = str(GUEST_DIR)
        self.python = sys.executable
        self._procs: list[PipeProcess] = []
        self.closed = False

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
        p = PipeProcess(list(argv), env=self.guest_env(env), cwd=self._cwd(cwd),
                        rlimits=RLimits.from_policy(self.policy.limits, nproc=False))
        self._procs.append(p)
        return p

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

    def read_file(self, path: str) -> bytes:
        p = Path(path)
        if p.is_absolute() and (p == Path(self.tmpdir) or Path(self.tmpdir) in p.parents):
            return resolve_inside(Path(self.tmpdir), path).read_bytes()
        return resolve_inside(Path(self.workspace), path).read_bytes()

    def copy_in(self, host_dir: Path) -> None:
        ws = Path(self.workspace)
        if ws.exists():
            shutil.rmtree(ws)
        shutil.copytree(host_dir, ws, symlinks=True, ignore=COPY_IGNORE)

    def copy_out(self, host_dir: Path, src: str | None = None, max_bytes: int = 1 << 30) -> None:
        if src is None:
            shutil.copytree(self.workspace, host_dir, symlinks=True, dirs_exist_ok=True, ignore=COPY_IGNORE)
            return
        from ouro.sandbox.core.files import copy_untrusted_tree

        p = Path(src)
        root = Path(self.tmpdir) if p == Path(self.tmpdir) or Path(self.tmpdir) in p.parents else Path(self.workspace)
        copy_untrusted_tree(resolve_inside(root, src), host_dir, max_bytes=max_bytes)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for p in self._procs:
            p.kill()
        shutil.rmtree(self._root, ignore_errors=True)


"""What the process-based backends (local, bwrap) share: a workspace that is a host directory.

Their processes are host processes (sandbox.proc) and their files are plain host file
operations. The sandbox can plant symlinks in that directory, so every host-side path is
resolved and must stay inside the directory it names (`resolve_inside`), and copies keep
links as links instead of following them.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ouro.sandbox.base import COPY_EXCLUDES, SandboxBase, SandboxError

# stale bytecode would make a candidate's edit invisible (a .pyc with the same mtime and
# size is trusted by the importer), so it never travels into a workspace either
COPY_IGNORE = shutil.ignore_patterns(*sorted(COPY_EXCLUDES), "*.pyc")


def resolve_inside(root: Path, path: str) -> Path:
    """The host path for a sandbox path, refusing anything that escapes root (.. or symlinks)."""
    p = Path(path)
    full = (root / p) if not p.is_absolute() else p
    real = Path(os.path.realpath(full))
    root_real = Path(os.path.realpath(root))
    if real != root_real and root_real not in real.parents:
        raise SandboxError(f"path {path!r} resolves outside the sandbox")
    return real


class HostDirSandbox(SandboxBase):
    """A subclass calls `_init_host(root, host_workspace)`; `root` (a temporary directory
    holding the workspace and whatever else the backend needs) is removed by close()."""

    def _init_host(self, root: Path, host_workspace: Path) -> None:
        self._root = root
        self._host_ws = host_workspace
        self._procs = []
        self.closed = False

    def _track(self, proc):
        self._procs.append(proc)
        return proc

    def _after_copy_in(self) -> None:
        """What the backend does to a fresh copy of the workspace (bwrap: hand it to the sandbox uid)."""

    def _release(self) -> None:
        """What the backend frees on close besides its processes and directory (bwrap: its cgroup)."""

    def copy_in(self, host_dir: Path) -> None:
        if self._host_ws.exists():
            shutil.rmtree(self._host_ws)
        shutil.copytree(host_dir, self._host_ws, symlinks=True, ignore=COPY_IGNORE)
        self._after_copy_in()

    def _host_path(self, path: str) -> Path:
        """The host path of an in-sandbox path the host may read (resolved inside its directory)."""
        raise NotImplementedError

    def copy_out(self, host_dir: Path, src: str | None = None, max_bytes: int = 1 << 30) -> None:
        """The workspace to host_dir; or the in-sandbox directory `src` to host_dir, which must not
        exist: a walk that never follows a link or opens anything but a regular file (the
        sandbox wrote it), up to max_bytes."""
        if src is None:
            shutil.copytree(self._host_ws, host_dir, symlinks=True, dirs_exist_ok=True, ignore=COPY_IGNORE)
            return
        from ouro.sandbox.core.files import TreeTooLarge, copy_untrusted_tree

        try:
            copy_untrusted_tree(self._host_path(src), host_dir, max_bytes=max_bytes)
        except (TreeTooLarge, OSError) as e:
            raise SandboxError(f"copying {src} out of the sandbox failed: {e}") from None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for p in self._procs:
            p.kill()
        self._release()
        shutil.rmtree(self._root, ignore_errors=True)

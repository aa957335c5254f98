"""Per-sandbox cgroups (v1) for the process-based bwrap backend: memory, pids and cpu in total.

rlimits bound one process at a time (RLIMIT_AS per process, RLIMIT_NPROC per host uid across
every sandbox); a cgroup bounds the whole sandbox the way Docker does: memory (swap equal, so
no swap), a pids maximum, and a CFS cpu quota. Only root can create cgroups, and only where
the v1 controllers are mounted; `create` returns None otherwise (cgroup v2 hosts) and
the backend falls back to rlimits alone.

Processes join in the forked child before exec (`join`, called from preexec_fn while still
root), so nothing of the sandbox ever runs outside its group.
"""
from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids", "cpu")
CFS_PERIOD_US = 100_000


def _own_path(controller: str) -> str | None:
    """Our own cgroup path for a v1 controller (new groups nest under it)."""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, ctrls, path = line.split(":", 2)
            if controller in ctrls.split(","):
                return path
    except OSError:
        return None
    return None


def _write(path: Path, value) -> None:
    with open(path, "w") as f:
        f.write(str(value))


def _reap(parent: Path, prefix: str) -> None:
    """Remove groups of ours whose owner process is gone (a SIGKILLed ouro leaves them)."""
    try:
        entries = list(parent.glob(f"{prefix}-*-*"))
    except OSError:
        return
    for d in entries:
        try:
            owner = int(d.name[len(prefix) + 1:].split("-")[0])
        except ValueError:
            continue
        if Path(f"/proc/{owner}").exists():
            continue
        try:
            for p in (d / "cgroup.procs").read_text().split():
                os.kill(int(p), signal.SIGKILL)
            d.rmdir()
        except OSError:
            pass


@dataclass
class Cgroup:
    dirs: dict[str, Path]

    @classmethod
    def create(cls, *, memory_mb: int, pids: int, cpus: float, prefix: str = "ouro-bwrap") -> "Cgroup | None":
        if os.geteuid() != 0:
            return None
        # the owner's pid in the name lets a later ouro remove groups a killed one left behind
        name = f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        dirs: dict[str, Path] = {}
        try:
            for ctrl in CONTROLLERS:
                own = _own_path(ctrl)
                base = CGROUP_ROOT / ctrl
                if own is None or not (base / "cgroup.procs").exists():
                    raise OSError(f"cgroup v1 controller {ctrl} not mounted")
                _reap(base / own.lstrip("/"), prefix)
                d = base / own.lstrip("/") / name
                d.mkdir()
                dirs[ctrl] = d
            mem = memory_mb << 20
            _write(dirs["memory"] / "memory.limit_in_bytes", mem)
            if (dirs["memory"] / "memory.memsw.limit_in_bytes").exists():
                _write(dirs["memory"] / "memory.memsw.limit_in_bytes", mem)
            _write(dirs["pids"] / "pids.max", pids)
            _write(dirs["cpu"] / "cpu.cfs_period_us", CFS_PERIOD_US)
            _write(dirs["cpu"] / "cpu.cfs_quota_us", max(1000, int(cpus * CFS_PERIOD_US)))
        except OSError:
            cls(dirs).destroy()
            return None
        return cls(dirs)

    def join(self) -> None:
        """Move the calling process into every controller's group (from preexec_fn)."""
        pid = str(os.getpid())
        for d in self.dirs.values():
            _write(d / "cgroup.procs", pid)

    def _read(self, ctrl: str, name: str) -> str:
        try:
            return (self.dirs[ctrl] / name).read_text()
        except (OSError, KeyError):
            return ""

    def counters(self) -> tuple[int, int]:
        """(OOM kills, times fork hit pids.max): compared before and after an exec."""
        oom = 0
        for line in self._read("memory", "memory.oom_control").splitlines():
            if line.startswith("oom_kill "):
                oom = int(line.split()[1])
        pids = 0
        for line in self._read("pids", "pids.events").splitlines():
            if line.startswith("max "):
                pids = int(line.split()[1])
        return oom, pids

    def pids(self) -> list[int]:
        return [int(p) for p in self._read("pids", "cgroup.procs").split()]

    def kill_all(self) -> None:
        for _ in range(50):
            left = self.pids()
            if not left:
                return
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def destroy(self) -> None:
        self.kill_all()
        for d in self.dirs.values():
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still has (dying) members
                    time.sleep(0.02)

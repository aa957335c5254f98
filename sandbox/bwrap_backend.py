"""The `bwrap` backend: bubblewrap namespaces, the fast tier where Docker is absent.

Every exec is a fresh `bwrap` (about 10 ms): new user, pid, net, ipc, uts and cgroup
namespaces (--unshare-all: no network at all, not even loopback to the host), the Debian root
file system from sandbox.images.base_rootfs() bound read-only as /, a sized tmpfs on /tmp,
/proc and a minimal /dev, sandbox/guest read-only at /opt/ouro/guest, the environment's
site dir (third-party deps) read-only where Debian's python3 looks first, every capability
dropped, --die-with-parent and --new-session (no TIOCSTI into our terminal). The process runs
as the policy's uid (10001) on the host too, not just inside: when ouro runs as root we drop
to that uid with setpriv (plus no_new_privs) before starting bwrap, so even an escape from
the namespaces lands as an unprivileged user. rlimits (nofile, fsize, core=0, address space,
nproc) are set before bwrap starts and inherited by everything inside. When ouro runs as root
on a cgroup v1 host, each sandbox also gets its own cgroup (sandbox.cgroups): memory with
swap equal to it, a pids maximum and a CPU quota for all its processes together, as Docker
does; RLIMIT_NPROC (which counts the uid host-wide) is then not used.

Workspace design choice: /workspace is a HOST temp directory bound read-write, not a tmpfs
inside the namespace. A tmpfs would vanish with each short-lived bwrap process, so moving
files in and out would need a long-lived in-sandbox file server that the code under test
(same uid) could tamper with; a bound directory keeps every exec a fresh, independent
namespace and makes file transfer plain host file operations. The price, and how we pay it:
- the host reads files the sandbox wrote: every host-side path is resolved and must stay
  inside the workspace (a symlink planted by the code under test cannot redirect a read),
  and copy_out copies symlinks as links;
- /workspace has no size of its own as the tmpfs of /tmp has (disk_mb): one file is bounded
  by RLIMIT_FSIZE (fsize_mb), and the total is polled every 0.25 s during an exec and the
  command killed with reason disk_limit past disk_mb (the warm worker polls the same way
  around each candidate it runs). Between two polls a fast writer can overshoot by what it
  writes in 0.25 s: the known gap of this tier.

Because the sandbox uid cannot traverse root's home, a root file system cached under
/root/.cache is mirrored once with hard links (cp -al, well under a second) into a
world-traversable directory under /var/cache/ouro-bwrap.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from ouro.sandbox.base import GUEST_DIR, GUEST_IN_SANDBOX, EndReason, ExecResult, SandboxError
from ouro.sandbox.hostdir import HostDirSandbox, resolve_inside
from ouro.sandbox.policy import SandboxPolicy
from ouro.sandbox.guest.fsstat import disk_usage, tree_entries
from ouro.sandbox.proc import PipeProcess, RLimits, run_capped

WORKSPACE = "/workspace"
MIRROR_ROOT = Path("/var/cache/ouro-bwrap")
SITE_IN_SANDBOX = "/usr/local/lib/python3.11/dist-packages"


def _world_traversable(path: Path) -> bool:
    """Whether any uid can reach `path`: its directories traversable, a file readable."""
    p = path.resolve()
    need = stat.S_IXOTH if p.is_dir() else stat.S_IROTH
    if not os.stat(p).st_mode & need:
        return False
    return all(os.stat(d).st_mode & stat.S_IXOTH for d in p.parents)


def tree_version(path: Path) -> str:
    """A cheap fingerprint of a small tree (names, sizes, mtimes): a changed file makes a new one."""
    h = hashlib.sha256()
    for p in sorted(Path(path).rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            st = p.stat()
            h.update(f"{p.relative_to(path)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:12]


def visible_to_sandbox(path: Path, version: str = "") -> Path:
    """`path` itself when the sandbox uid can reach it, else a hard-link mirror that it can.

    The mirror is keyed by the path and `version`: pass a version (tree_version) for a tree
    whose content changes under the same path, such as ouro's own guest code in a checkout."""
    path = Path(path).resolve()
    if os.geteuid() != 0 or _world_traversable(path):
        return path
    digest = hashlib.sha256(f"{path}\0{version}".encode()).hexdigest()[:12]
    mirror = MIRROR_ROOT / f"{path.name}-{digest}"
    if mirror.exists():
        return mirror
    MIRROR_ROOT.mkdir(parents=True, exist_ok=True)
    os.chmod(MIRROR_ROOT, 0o755)
    if path.is_file():   # a single file (a CA bundle under a private home): a readable copy
        fd, tmpfile = tempfile.mkstemp(prefix=f".{mirror.name}-", dir=MIRROR_ROOT)
        os.close(fd)
        shutil.copyfile(path, tmpfile)
        os.chmod(tmpfile, 0o644)
        os.replace(tmpfile, mirror)
        return mirror
    tmp = Path(tempfile.mkdtemp(prefix=f".{mirror.name}-", dir=MIRROR_ROOT))
    try:
        # hard links when on one file system; a real copy otherwise
        proc = subprocess.run(["cp", "-al", f"{path}/.", str(tmp)], capture_output=True)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            subprocess.run(["cp", "-a", f"{path}/.", str(tmp)], check=True, capture_output=True)
        os.chmod(tmp, 0o755)
        try:
            os.rename(tmp, mirror)
        except OSError:  # another process finished the same mirror first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return mirror


def _check_bind_point(rootfs: Path, inside: str) -> None:
    """A directory bound at `inside` needs a top directory of its own that the root has and no
    other mount uses (/root, /home, /opt/<x> are fine; /usr or /tmp are not)."""
    parts = Path(inside).parts
    if len(parts) < 3 or parts[1] in _SYSTEM_DIRS or not (rootfs / parts[1]).is_dir():
        raise SandboxError(f"cannot bind an interpreter at {inside} in a bwrap sandbox (its top directory is "
                           "missing or a system one); use the docker backend or another interpreter")


_SYSTEM_DIRS = {"usr", "bin", "sbin", "lib", "lib64", "etc", "var", "proc", "dev", "sys", "tmp", "run", "workspace", "boot"}


class _JoinThenLimit:
    """preexec step for bwrap's parent: join the sandbox's cgroup (still root), set rlimits."""

    def __init__(self, cgroup, rlimits: RLimits):
        self.cgroup = cgroup
        self.rlimits = rlimits

    def apply(self) -> None:
        if self.cgroup is not None:
            self.cgroup.join()
        self.rlimits.apply()


def bwrap_available() -> str | None:
    """None when bwrap can start a sandbox here, else the reason."""
    if not shutil.which("bwrap"):
        return "bwrap is not installed (apt-get install bubblewrap)"
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return "setpriv (util-linux) is missing; it drops root before bwrap starts"
    return None


class BwrapSandbox(HostDirSandbox):
    backend = "bwrap"
    workspace = WORKSPACE
    # Reports and coverage files land here, not in /tmp: /tmp is a tmpfs private to one exec.
    tmpdir = "/tmp/ouro-out"
    guest_dir = GUEST_IN_SANDBOX
    python = "python3"

    def __init__(self, policy: SandboxPolicy, root: Path, rootfs: Path, site_dir: Path | None,
                 audit: bool, labels: dict[str, str], site_in_sandbox: str = SITE_IN_SANDBOX,
                 binds: tuple[tuple[Path, str], ...] = ()):
        self._init_common(policy, audit, labels)
        self._init_host(root, root / "workspace")
        self._host_out = root / "out"
        self.rootfs = rootfs
        self.site_dir = site_dir
        self.site_in_sandbox = site_in_sandbox
        self.binds = binds        # (host dir visible to the sandbox uid, in-sandbox path), read-only
        self.guest_host = GUEST_DIR  # start() swaps in a mirror when the sandbox uid cannot reach it
        self.cgroup = None  # sandbox.cgroups.Cgroup when available

    @classmethod
    def start(cls, policy: SandboxPolicy, *, workspace: Path | None = None, image: str | None = None,
              labels=None, audit: bool = True, env=None) -> "BwrapSandbox":
        """env: an images.Environment (its root, site directory, interpreter; default the base
        root). No sandbox shares the host's network namespace: the environment build reaches its
        index through a host proxy's socket bound into it (sandbox.netproxy)."""
        why = bwrap_available()
        if why:
            raise SandboxError(why)
        if env is not None and env.rootfs is not None:
            rootfs = Path(env.rootfs)
        elif image and Path(image).is_dir():
            rootfs = Path(image)
        else:
            from ouro.sandbox.images import base_rootfs

            rootfs = base_rootfs()
        rootfs = visible_to_sandbox(rootfs)
        site = visible_to_sandbox(Path(env.site_dir)) if env is not None and env.site_dir else None
        binds = tuple((visible_to_sandbox(Path(host)), inside) for host, inside in (env.binds if env is not None else ()))
        for _, inside in binds:
            _check_bind_point(rootfs, inside)
        root = Path(tempfile.mkdtemp(prefix="ouro-bwrap-"))
        os.chmod(root, 0o711)  # the sandbox uid must traverse it to reach workspace/, not list it
        sb = cls(policy, root, rootfs, site, audit, dict(labels or {}),
                 site_in_sandbox=env.site_in_sandbox if env is not None else SITE_IN_SANDBOX, binds=binds)
        sb.path_prefix = env.path_prefix if env is not None else ""
        sb.environment = env
        # a checkout under a private directory (mktemp -d, a home dir) is out of the uid's reach
        sb.guest_host = visible_to_sandbox(GUEST_DIR, version=tree_version(GUEST_DIR))
        from ouro.sandbox.cgroups import Cgroup

        lim = policy.limits
        sb.cgroup = Cgroup.create(memory_mb=lim.memory_mb, pids=lim.pids, cpus=lim.cpus)
        sb._host_out.mkdir()
        sb._own(sb._host_out)
        if workspace is not None:
            sb.copy_in(Path(workspace))
        else:
            sb._host_ws.mkdir()
            sb._own(sb._host_ws)
        return sb

    # -- command line ----------------------------------------------------------------------
    def _argv(self, argv: list[str], cwd: str | None, seccomp_fd: int | None = None) -> list[str]:
        uid = str(self.policy.uid)
        limits = self.policy.limits
        cmd: list[str] = []
        if os.geteuid() == 0:
            cmd += ["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups",
                    "--inh-caps=-all", "--no-new-privs"]
        cmd += [
            "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--uid", uid, "--gid", uid, "--hostname", "ouro-sandbox",
            "--ro-bind", str(self.rootfs), "/",
        ]
        for host, inside in self.binds:
            # An interpreter lives where it was built (its libpython is found by an absolute run
            # path), often under a home the root file system keeps private (/root is 0700): a
            # read-only tmpfs over that top directory holds the mount point.
            cmd += ["--tmpfs", "/" + Path(inside).parts[1], "--ro-bind", str(host), inside]
        cmd += [
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(limits.disk_mb << 20), "--tmpfs", "/tmp",
            "--bind", str(self._host_ws), WORKSPACE,
            "--bind", str(self._host_out), self.tmpdir,
            "--ro-bind", str(self.guest_host), GUEST_IN_SANDBOX,
        ]
        if self.site_dir:
            cmd += ["--ro-bind", str(self.site_dir), self.site_in_sandbox]
        for host, inside in self.policy.readonly_mounts.items():
            cmd += ["--ro-bind", str(visible_to_sandbox(Path(host))), inside]
        for top in dict.fromkeys("/" + Path(inside).parts[1] for _, inside in self.binds):
            cmd += ["--remount-ro", top]   # after every mount point under it exists
        if seccomp_fd is not None:
            # sandbox/seccomp.py: every socket family but UNIX/INET/INET6 refused, and the
            # syscalls Docker's default profile refuses a container without capabilities
            cmd += ["--seccomp", str(seccomp_fd)]
        cmd += ["--cap-drop", "ALL", "--chdir", self._cwd(cwd), "--", *argv]
        return cmd

    def _cwd(self, cwd: str | None) -> str:
        if not cwd:
            return WORKSPACE
        if not cwd.startswith("/"):
            cwd = f"{WORKSPACE}/{cwd}"
        return cwd

    def base_env(self) -> dict[str, str]:
        return {"PATH": self._path("/usr/local/bin:/usr/bin:/bin"), "HOME": "/tmp", "TMPDIR": "/tmp",
                "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}

    def _rlimits(self) -> "_JoinThenLimit":
        nproc = os.geteuid() == 0 and self.cgroup is None
        return _JoinThenLimit(self.cgroup, RLimits.from_policy(self.policy.limits, nproc=nproc))

    def exec(self, argv, *, timeout=None, env=None, cwd=None) -> ExecResult:
        limits = self.policy.limits
        before = self.cgroup.counters() if self.cgroup else None
        from ouro.sandbox.seccomp import bwrap_filter

        try:
            with bwrap_filter() as fd:
                # guest/reap.sh reports the exit-time facts (leftovers, loopback traffic) to the host
                result = run_capped(self._argv(["/bin/sh", f"{GUEST_IN_SANDBOX}/reap.sh", *argv], cwd, fd),
                                    timeout=min(timeout or limits.wall_time_s, limits.wall_time_s),
                                    output_bytes=limits.output_bytes, env=self.guest_env(env), rlimits=self._rlimits(),
                                    watch=self._disk_watch, pass_fds=(fd,))
        except FileNotFoundError as e:
            raise SandboxError(f"cannot start bwrap: {e}") from None
        if before is not None and result.reason in (EndReason.NORMAL, EndReason.KILLED) and result.exit_code != 0:
            # what the kernel enforced on the group, which the process itself may not say
            oom, pids = self.cgroup.counters()
            if oom > before[0]:
                result.reason = EndReason.OOM
            elif pids > before[1]:
                result.reason = EndReason.PIDS_LIMIT
        return result

    def _disk_watch(self) -> EndReason | None:
        """The bound workspace and out dir have no size of their own (see the module notes):
        poll their usage while a command runs and stop it past disk_mb."""
        limit = self.policy.limits.disk_mb << 20
        used = disk_usage(str(self._host_ws)) + disk_usage(str(self._host_out))
        if used > limit:
            return EndReason.DISK_LIMIT
        # and an inode limit: empty files use no blocks, but each one is a host inode
        cap = max(4096, self.policy.limits.disk_mb * 256)
        files = tree_entries(str(self._host_ws), cap) + tree_entries(str(self._host_out), cap)
        return EndReason.DISK_LIMIT if files > cap else None

    def spawn(self, argv, *, env=None, cwd=None) -> PipeProcess:
        from ouro.sandbox.seccomp import bwrap_filter

        with bwrap_filter() as fd:
            p = PipeProcess(self._argv(list(argv), cwd, fd), env=self.guest_env(env), rlimits=self._rlimits(),
                            pass_fds=(fd,))
        return self._track(p)

    # -- files: plain host operations on the bound directory, never following the sandbox's links
    def _host_path(self, path: str) -> Path:
        if path.startswith(self.tmpdir + "/"):
            return resolve_inside(self._host_out, path[len(self.tmpdir) + 1:])
        if path.startswith(WORKSPACE + "/") or path == WORKSPACE:
            path = path[len(WORKSPACE):].lstrip("/") or "."
        elif path.startswith("/"):
            raise SandboxError(f"{path}: only {WORKSPACE} and {self.tmpdir} are readable from a bwrap sandbox")
        return resolve_inside(self._host_ws, path)

    def _own(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        uid = self.policy.uid
        os.chown(path, uid, uid)
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                os.lchown(os.path.join(dirpath, name), uid, uid)

    def write_files(self, files: dict[str, bytes]) -> None:
        for rel, data in files.items():
            target = self._host_path(rel)
            new_dirs = [d for d in [target.parent, *target.parent.parents] if not d.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if os.geteuid() == 0:
                for d in [*new_dirs, target]:
                    os.lchown(d, self.policy.uid, self.policy.uid)

    def delete_files(self, paths: list[str]) -> None:
        for rel in paths:
            try:
                self._host_path(rel).unlink()
            except FileNotFoundError:
                pass

    def read_file(self, path: str) -> bytes:
        """Workspace and /tmp/ouro-out files only: /tmp is private to each exec and gone when it ends."""
        from ouro.sandbox.core.files import read_untrusted

        head, _, name = path.rstrip("/").rpartition("/")  # the last component is never followed
        parent = Path(os.path.realpath(self._host_out)) if head == self.tmpdir else self._host_path(head or ".")
        return read_untrusted(parent / name)

    def _after_copy_in(self) -> None:
        self._own(self._host_ws)

    def _release(self) -> None:
        if self.cgroup is not None:
            self.cgroup.destroy()


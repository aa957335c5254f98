"""The docker backend (runc) and, with runtime="runsc", the gvisor backend.

One long-lived container per sandbox, hardened as in DESIGN.md section 6: no network,
read-only root, sized tmpfs for /workspace and /tmp, no capabilities, no-new-privileges,
Docker's default seccomp profile, a non-root uid, pids/memory/cpu limits, ulimits, an init,
and labels so leftovers can be reaped. Its main process (`sleep infinity`, as uid 65534) only
keeps it alive; every command is a `docker exec` as the sandbox uid, which therefore differs
from the container's own processes: `kill -9 -1` as the sandbox uid ends everything the code
under test started (fork bombs included) without taking the container down.

Files travel as tar over an exec's stdin/stdout: `docker cp` cannot write into tmpfs mounts
and the root is read-only.
"""
from __future__ import annotations

import io
import os
import re
import select
import socket
import struct
import tarfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from ouro.sandbox.base import COPY_EXCLUDES, GUEST_DIR, GUEST_IN_SANDBOX, SandboxBase, LABEL, EndReason, ExecResult, SandboxError
from ouro.sandbox.policy import SandboxPolicy
from ouro.sandbox.proc import Unread

WORKSPACE = "/workspace"
KEEPER_UID = 65534  # "nobody": owns the container's keep-alive process, never the code under test
# Internal transfers (copy_out, read_file) are not bounded by the policy's output cap.
TRANSFER_CAP = 1 << 30
READ_CAP = 256 << 20  # read_file: the files the host reads back are bounded by fsize anyway
_FRAME_HEADER = struct.Struct(">BxxxL")
_DISK_ERRORS = re.compile(r"File too large|No space left on device|Errno 27\]|Errno 28\]|EFBIG|ENOSPC|Disk quota exceeded")
# "can't start new thread": Python's RuntimeError when clone() of a thread fails at the limit
_FORK_ERRORS = re.compile(r"Resource temporarily unavailable|fork: retry|Cannot allocate memory.*fork|BlockingIOError"
                          r"|can't start new thread|Cannot fork")   # the last: dash


@dataclass
class _RawResult:
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    duration_s: float
    killed_for: EndReason | None
    truncated_out: bool
    truncated_err: bool


class _CgroupWatch:
    """Counters in the container's cgroup (v1, cgroupfs driver) that say which limit was hit.

    Read from the host: pids.events `max` rises each time a fork fails at the pids limit, and
    memory.oom_control `oom_kill` rises each time the OOM killer kills inside the container.
    Absent (another cgroup layout, gVisor's own accounting) -> every read returns None and the
    caller falls back to exit codes and messages.
    """

    def __init__(self, container_id: str):
        root = Path("/sys/fs/cgroup")
        candidates = {
            "pids": [root / "pids/docker" / container_id, root / "pids/system.slice" / f"docker-{container_id}.scope"],
            "memory": [root / "memory/docker" / container_id, root / "memory/system.slice" / f"docker-{container_id}.scope"],
        }
        self.dirs = {k: next((p for p in v if p.is_dir()), None) for k, v in candidates.items()}

    def _read(self, ctrl: str, name: str) -> str | None:
        d = self.dirs.get(ctrl)
        if d is None:
            return None
        try:
            return (d / name).read_text()
        except OSError:
            return None

    def _number(self, controller: str, name: str) -> int | None:
        """A cgroup file that holds one number (pids.current, memory.failcnt)."""
        text = self._read(controller, name)
        return int(text) if text and text.strip().isdigit() else None

    def _counter(self, controller: str, name: str, key: str) -> int | None:
        """The number on a cgroup file's `KEY N` line (pids.events, memory.oom_control)."""
        m = re.search(rf"^{key} (\d+)", self._read(controller, name) or "", re.M)
        return int(m.group(1)) if m else None

    def pids_max_events(self) -> int | None:
        return self._counter("pids", "pids.events", "max")

    def pids_current(self) -> int | None:
        return self._number("pids", "pids.current")

    def oom_kills(self) -> int | None:
        return self._counter("memory", "memory.oom_control", "oom_kill")

    def memory_failcnt(self) -> int | None:
        return self._number("memory", "memory.failcnt")

    def snapshot(self) -> tuple:
        return (self.pids_max_events(), self.oom_kills(), self.memory_failcnt())

    def reset_peak(self) -> None:
        """Start the memory peak afresh for the next command (writing 0 resets it in v1)."""
        d = self.dirs.get("memory")
        if d is not None:
            try:
                (d / "memory.max_usage_in_bytes").write_text("0")
            except OSError:
                pass

    def peaked_at_limit(self) -> bool:
        """Did memory use reach the limit since the last reset_peak? gVisor's sentry kills a
        guest that runs out of memory itself, without the failcnt or OOM counters rising: a
        SIGKILL nobody on the host sent, at the limit, is that."""
        peak, limit = self._number("memory", "memory.max_usage_in_bytes"), self._number("memory", "memory.limit_in_bytes")
        return bool(peak and limit) and peak >= 0.9 * limit


def _raw_socket(sock):
    """The socket.socket under what exec_start(socket=True) returns (a SocketIO for unix sockets)."""
    return getattr(sock, "_sock", sock)


class _FrameReader:
    """Docker's multiplexed attach stream: 8-byte header (stream id, length), then payload."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def poll(self, timeout: float) -> list[tuple[int, bytes]]:
        """Frames that arrived within `timeout` seconds (possibly none); sets .eof at the end."""
        if self.eof:
            return []
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return []
        try:
            chunk = self.sock.recv(1 << 16)
        except (ConnectionResetError, OSError):
            chunk = b""
        if not chunk:
            self.eof = True
            return []
        self.buf += chunk
        frames = []
        while len(self.buf) >= 8:
            stream, length = _FRAME_HEADER.unpack_from(self.buf)
            if len(self.buf) < 8 + length:
                break
            frames.append((stream, self.buf[8:8 + length]))
            self.buf = self.buf[8 + length:]
        return frames


class DockerProcess:
    """A long-lived exec (the warm pool's worker), talked to over its stdin/stdout.

    The first stderr line is its in-container pid, printed by a shell wrapper before the
    command starts, so the code under test cannot forge it; kill() uses it.
    """

    def __init__(self, sandbox: "DockerSandbox", exec_id: str, sock):
        self.sandbox = sandbox
        self.exec_id = exec_id
        self._sock_obj = sock  # keeps the HTTP response (and so the socket) alive
        self.sock = _raw_socket(sock)
        self.reader = _FrameReader(self.sock)
        self.out = b""
        self.err = b""
        self._unread = Unread(1 << 20)
        self.pid: int | None = None

    def _pump(self, timeout: float) -> None:
        for stream, data in self.reader.poll(timeout):
            if stream == 2:
                self.err += data
                if self.pid is None:
                    if b"\n" not in self.err:
                        continue   # the wrapper's pid line is not complete yet
                    first, self.err = self.err.split(b"\n", 1)
                    if first.startswith(b"OURO-PID "):
                        self.pid = int(first.split()[1])
                        data = self.err   # the wrapper's pid line is no output of the process
                    else:
                        data = first + b"\n" + self.err
                self._unread.add(data)
                self.err = self.err[-(1 << 20):]  # keep the tail only: stderr is for diagnostics
            else:
                self.out += data

    def read_pid(self, timeout: float) -> None:
        """Wait for the wrapper's pid line (or the end of the process)."""
        deadline = time.monotonic() + timeout
        while self.pid is None and not self.reader.eof and b"\n" not in self.err:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._pump(min(left, 0.5))

    def write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise SandboxError(f"sandbox process is gone: {e}") from None

    def readline(self, timeout: float | None = None) -> bytes:
        """One line from stdout (with its newline), or b"" at end of stream or on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.out:
            if self.reader.eof:
                line, self.out = self.out, b""
                return line
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return b""
            self._pump(min(left, 1.0))
        line, self.out = self.out.split(b"\n", 1)
        return line + b"\n"

    @property
    def stderr(self) -> bytes:
        return self.err

    def stderr_tail(self) -> str:
        return self.err[-4000:].decode("utf-8", "replace")

    def read_stderr(self) -> str:
        """What the process wrote to stderr since the last call (after kill(): all of it)."""
        if not self.reader.eof:
            self._pump(0.0)
        return self._unread.take()

    def alive(self) -> bool:
        if self.reader.eof:
            return False
        try:
            return bool(self.sandbox.client.api.exec_inspect(self.exec_id).get("Running"))
        except Exception:
            return False

    def kill(self) -> None:
        if self.pid is None:
            self._pump(0.5)
        if self.pid is not None and self.sandbox.alive():
            try:
                self.sandbox._raw(["/bin/sh", "-c", f"kill -9 {self.pid}"], timeout=10, cap=4096)
            except SandboxError:
                pass
        deadline = time.monotonic() + 1.0
        while not self.reader.eof and time.monotonic() < deadline:   # the last of its stderr
            self._pump(0.2)
        _hang_up(self.sock)


def _remove_container(client, container_id: str) -> None:
    try:
        client.api.remove_container(container_id, force=True, v=True)
    except Exception:  # already gone, or the daemon went away: the reaper gets it later
        pass


class DockerSandbox(SandboxBase):
    """A hardened container (runc, or gVisor with runtime="runsc") behind the Sandbox protocol."""

    workspace = WORKSPACE

    def __init__(self, client, container, policy: SandboxPolicy, runtime: str | None, audit: bool,
                 labels: dict[str, str] | None = None):
        self._init_common(policy, audit, labels)
        self.client = client
        self.container = container
        self.id = container.id
        self.runtime = runtime
        self.backend = "gvisor" if runtime == "runsc" else "docker"
        self.cgroup = _CgroupWatch(self.id)
        self._closed = False
        self._broken: str | None = None  # why the sandbox refuses commands though docker says Running
        self._killer: DockerProcess | None = None
        self._spawned: "weakref.WeakSet[DockerProcess]" = weakref.WeakSet()  # spared by guest/reap.sh
        # Remove the container when this object is collected or the interpreter exits normally;
        # a SIGKILLed owner leaves it to the reaper (sandbox.reaper), which checks owner pids.
        self._finalizer = weakref.finalize(self, _remove_container, client, self.id)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(cls, policy: SandboxPolicy, *, workspace: Path | None = None, image: str | None = None,
              labels: dict[str, str] | None = None, runtime: str | None = None, audit: bool = True,
              client=None, env=None) -> "DockerSandbox":
        """env: an images.Environment (its image, and its interpreter's bin first on PATH). Every
        container has no network (the environment build reaches its index through a host
        proxy's socket, sandbox.netproxy)."""
        import docker
        from ouro.sandbox import images, reaper, seccomp

        client = client or images.docker_client()
        reaper.reap(client)  # leftovers of dead ouro processes only
        image = (env.image if env is not None and env.image else None) or image or policy.image
        if image == images.BASE_IMAGE:
            images.ensure_base_image(client)
        lim = policy.limits
        uid = policy.uid
        all_labels = {LABEL: "1", "ouro.owner_pid": str(os.getpid()),
                      "ouro.backend": "gvisor" if runtime == "runsc" else "docker", **(labels or {})}
        volumes = {str(GUEST_DIR): {"bind": GUEST_IN_SANDBOX, "mode": "ro"}}
        for host, inside in policy.readonly_mounts.items():
            volumes[str(Path(host).expanduser().resolve())] = {"bind": inside, "mode": "ro"}
        # nr_inodes: empty files use no blocks; without it they are bounded only by kernel memory
        tmpfs_opts = f"size={lim.disk_mb}m,nr_inodes={max(4096, lim.disk_mb * 256)},nosuid,nodev,exec"
        kwargs = dict(
            command=["sleep", "infinity"],
            detach=True,
            user=f"{KEEPER_UID}:{KEEPER_UID}",
            network_mode="none",
            read_only=True,
            tmpfs={WORKSPACE: f"{tmpfs_opts},uid={uid},gid={uid},mode=0755",
                   "/tmp": f"{tmpfs_opts},mode=1777"},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges", f"seccomp={seccomp.docker_profile(client)}"],
            pids_limit=lim.pids,
            mem_limit=f"{lim.memory_mb}m",
            memswap_limit=f"{lim.memory_mb}m",
            nano_cpus=int(lim.cpus * 1e9),
            ulimits=[docker.types.Ulimit(name="nofile", soft=lim.nofile, hard=lim.nofile),
                     docker.types.Ulimit(name="fsize", soft=lim.fsize_mb << 20, hard=lim.fsize_mb << 20),
                     docker.types.Ulimit(name="core", soft=0, hard=0)],
            init=True,
            labels=all_labels,
            volumes=volumes,
            working_dir=WORKSPACE,
            environment={"HOME": "/tmp"},
            shm_size="64m",
        )
        if runtime == "runsc":
            # gVisor's sentry runs on the host as several threads per sandboxed process, all in
            # the container's host cgroup: a host pids limit equal to the policy's would crash
            # the sentry (Go "failed to create new OS thread", exit 2) long before the guest hit
            # it. So the host limit only backstops, and the policy's limit is RLIMIT_NPROC, which
            # gVisor enforces per sandbox (on runc it would count the uid machine-wide instead).
            # It is set per command (_wrap), not on the container: a container-wide RLIMIT_NPROC
            # would also refuse our own `kill` exec once a fork bomb has used every slot.
            # (Measured: a shell fork bomb held at 32 guest processes grows the host side by
            # ~200 threads a second under the ptrace platform.)
            kwargs["pids_limit"] = max(4096, lim.pids * 16)
            kwargs["runtime"] = runtime
        elif runtime:
            kwargs["runtime"] = runtime
        try:
            container = client.containers.run(image, **kwargs)
        except docker.errors.ImageNotFound:
            raise SandboxError(f"image {image!r} not found; build it with `ouro sandbox build`") from None
        except docker.errors.APIError as e:
            hint = " (is runsc registered? run `ouro sandbox setup`)" if runtime else ""
            raise SandboxError(f"cannot start a {cls.__name__} container: {e.explanation or e}{hint}") from None
        sb = cls(client, container, policy, runtime, audit, all_labels)
        sb.path_prefix = env.path_prefix if env is not None else ""
        sb.environment = env
        try:
            if not sb._can_kill_from_host():  # otherwise the host freezes and kills (faster)
                sb._start_killer()
            if workspace is not None:
                sb.copy_in(Path(workspace))
        except BaseException:
            sb.close()
            raise
        return sb

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._finalizer()

    def alive(self) -> bool:
        if self._broken:
            return False
        try:
            return self.client.api.inspect_container(self.id)["State"]["Running"]
        except Exception:
            return False

    # ------------------------------------------------------------------ execution

    def base_env(self) -> dict[str, str]:
        return {"HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                "PATH": self._path("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")}

    def _raw(self, argv: list[str], *, timeout: float | None, cap: int, input: bytes | None = None,
             env: dict[str, str] | None = None, cwd: str | None = None, watch: bool = False,
             user: int | None = None, kill_on_limit: bool = True, sink=None) -> _RawResult:
        """Run argv as the sandbox uid; stream output, enforce the deadline and the cap.
        sink: a callable that takes stdout's bytes as they come, instead of keeping them."""
        self._check_usable()
        api = self.client.api
        try:
            uid = self.policy.uid if user is None else user
            exec_id = api.exec_create(self.id, argv, stdin=input is not None, user=f"{uid}:{uid}",
                                      environment=env or self.guest_env(), workdir=cwd or WORKSPACE)["Id"]
            sock_obj = api.exec_start(exec_id, socket=True)
        except Exception as e:
            state = self._state()
            if state and not state.get("Running"):
                why = "it ran out of memory" if state.get("OOMKilled") else f"exit {state.get('ExitCode')}"
                raise SandboxError(f"the sandbox container has stopped ({why}); start a new sandbox") from None
            raise SandboxError(f"docker exec failed: {getattr(e, 'explanation', None) or e}") from None
        sock = _raw_socket(sock_obj)
        start = time.monotonic()
        deadline = start + timeout if timeout else None
        if input is not None:
            threading.Thread(target=_feed, args=(sock, input), daemon=True).start()
        reader = _FrameReader(sock)
        out, err = bytearray(), bytearray()
        total = 0
        killed_for = None
        trunc_out = trunc_err = False
        before = self.cgroup.snapshot() if watch else None
        host_pids0 = self.cgroup.pids_current() if watch else None
        next_check = start + 0.2
        try:
            while not reader.eof:
                now = time.monotonic()
                if deadline and now >= deadline:
                    killed_for = EndReason.TIMEOUT
                    break
                wait = 0.2 if deadline is None else min(0.2, deadline - now)
                for stream, data in reader.poll(wait):
                    room = cap - total
                    keep = data[:max(room, 0)]
                    total += len(data)
                    if stream != 2 and sink is not None:
                        sink(keep)
                    else:
                        (err if stream == 2 else out).extend(keep)
                    if len(keep) < len(data):
                        if stream == 2:
                            trunc_err = True
                        else:
                            trunc_out = True
                if total > cap:
                    killed_for = EndReason.OUTPUT_CAP
                    break
                if watch and time.monotonic() >= next_check:
                    # Forks failing at the limit: a fork bomb does not end by itself, so stop it.
                    if self.runtime == "runsc":
                        next_check = time.monotonic() + 1.0
                        # gVisor runs out of memory as a whole: the host OOM-kills the sentry,
                        # and the exec's stream then hangs instead of ending.
                        if not self._state().get("Running", False):
                            killed_for = self._stopped_reason()
                            break
                        # Probing costs an exec, so only when the sentry's host threads (about
                        # five per guest process, measured) have grown like a fork bomb's would.
                        grown = (self.cgroup.pids_current() or 0) - (host_pids0 or 0)
                        if (host_pids0 is None or grown >= max(16, self.policy.limits.pids)) and self._guest_at_pids_limit():
                            killed_for = EndReason.PIDS_LIMIT
                            break
                    else:
                        next_check = time.monotonic() + 0.2
                        p = self.cgroup.pids_max_events()
                        if p is not None and before[0] is not None and p > before[0]:
                            killed_for = EndReason.PIDS_LIMIT
                            break
        finally:
            if killed_for is not None:
                # Hang up first: an output flood left unread backs up through dockerd and the
                # container's shim and stalls our own kill and probe execs behind it.
                _hang_up(sock)
                if killed_for not in (EndReason.OOM, EndReason.KILLED) and kill_on_limit:
                    self._kill_all()
            _hang_up(sock)
        exit_code = self._exit_code(exec_id) if killed_for not in (EndReason.OOM, EndReason.KILLED) else None
        return _RawResult(exit_code, bytes(out), bytes(err), time.monotonic() - start, killed_for, trunc_out, trunc_err)

    def _guest_at_pids_limit(self) -> bool:
        """gVisor: are the sandbox uid's processes at the policy's limit?"""
        n = self._guest_process_count()
        return n is not None and n >= self.policy.limits.pids - 1

    def _wrap(self, argv: list[str]) -> list[str]:
        if self.runtime == "runsc":  # see start(): the pids limit as a per-command RLIMIT_NPROC
            return ["/bin/sh", "-c", f'ulimit -p {self.policy.limits.pids}; exec "$@"', "ouro-exec", *argv]
        return list(argv)

    def _exit_code(self, exec_id: str) -> int | None:
        for _ in range(50):
            try:
                info = self.client.api.exec_inspect(exec_id)
            except Exception:
                return None
            if not info.get("Running"):
                return info.get("ExitCode")
            time.sleep(0.05)
        return None

    def _start_killer(self) -> None:
        """A shell, as the sandbox uid, that runs `kill -9 -1` (a builtin: no fork) whenever we
        ask. Started before any code runs, so a fork bomb that has taken every process slot
        cannot stop us from killing it (a new exec as that uid would be refused). kill(-1)
        twice catches children forked while the first signal was being delivered. kill(-1)
        spares the caller, and the keeper runs as another uid. The code under test can kill
        this shell too; then we start another, or kill the container as a last resort."""
        # After killing it answers with the count of processes left besides the keeper (init,
        # sleep) and itself, from a /proc glob: no new exec, which gVisor starts slowly.
        self._killer = self.spawn(["/bin/sh", "-c",
                                   'while read x; do kill -9 -1; kill -9 -1; set -- /proc/[0-9]*; echo $(($# - 3)); done'])

    def _kill_all(self) -> None:
        """End every process of the sandbox uid in this container, leaving the container usable.

        On runc, when ouro may (root): from the host, freezing the container's cgroup so a fork
        bomb cannot outrun us. Otherwise through the killer shell, repeated until it counts
        no process left but itself and the keeper. If that fails, the container is
        killed: a dead sandbox is better than a runaway one.
        """
        if self._kill_from_host():
            self._killer = None  # it was one of the uid's processes
            return
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and self.alive():
            if self._killer is None or not self._killer.alive():
                try:
                    self._start_killer()
                except SandboxError:
                    self._killer = None
                    time.sleep(0.1)
                    continue
            try:
                self._killer.write(b"k\n")
                answer = self._killer.readline(timeout=2).strip()
            except SandboxError:
                self._killer = None
                continue
            if answer == b"0":
                return
            time.sleep(0.05)  # killed processes still listed until init reaps them
        if self.alive():
            try:
                self.client.api.kill(self.id)
            except Exception:
                pass

    def _count_uid_procs(self) -> int | None:
        """Processes of the sandbox uid in the container (None: cannot tell)."""
        if self.runtime == "runsc":
            return self._guest_process_count()
        pids = self._cgroup_pids()
        if pids is None:
            return None
        return sum(1 for p in pids if _proc_uid(p) == self.policy.uid)

    def _guest_process_count(self) -> int | None:
        """gVisor: the sandbox uid's processes, counted inside the guest (they are not host
        processes). The probe runs as the keeper's uid, because gVisor refuses a new exec as
        the sandbox uid once its process limit is reached, and with shell builtins only, so it
        needs no fork. None when the probe cannot run."""
        # Only the keeper (init + sleep, uid 65534) and this probe run as other uids, so the
        # count of /proc entries minus those 3 is the sandbox uid's; a glob is much cheaper
        # than reading every status file while a fork bomb saturates the sentry.
        script = "set -- /proc/[0-9]*; echo $(($# - 3))"
        try:
            raw = self._raw(["/bin/sh", "-c", script], timeout=5, cap=4096, user=KEEPER_UID, kill_on_limit=False)
            if raw.killed_for:
                return None
            return int(raw.stdout.strip())
        except (SandboxError, ValueError):
            return None

    def _cgroup_pids(self) -> list[int] | None:
        d = self.cgroup.dirs.get("pids")
        if d is None or self.runtime == "runsc":  # gVisor's processes are not host processes
            return None
        try:
            return [int(x) for x in (d / "cgroup.procs").read_text().split()]
        except OSError:
            return None

    def _freezer(self) -> Path:
        return Path("/sys/fs/cgroup/freezer/docker") / self.id / "freezer.state"

    def _can_kill_from_host(self) -> bool:
        return (self.runtime != "runsc" and self.cgroup.dirs.get("pids") is not None and os.geteuid() == 0
                and self._freezer().exists())

    def _kill_from_host(self) -> bool:
        if not self._can_kill_from_host():
            return False
        freezer = self._freezer()
        try:
            freezer.write_text("FROZEN")
            deadline = time.monotonic() + 5
            while freezer.read_text().strip() != "FROZEN" and time.monotonic() < deadline:
                time.sleep(0.01)
            for p in self._cgroup_pids() or []:
                if _proc_uid(p) == self.policy.uid:
                    try:
                        os.kill(p, 9)
                    except ProcessLookupError:
                        pass
        except OSError:
            return False
        finally:
            try:
                freezer.write_text("THAWED")
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while self._count_uid_procs() and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self._count_uid_procs()

    def exec(self, argv: list[str], *, timeout: float | None = None, env: dict[str, str] | None = None,
             cwd: str | None = None, input: bytes | None = None) -> ExecResult:
        """Run one command; the result says how it ended (see EndReason)."""
        lim = self.policy.limits
        timeout = lim.wall_time_s if timeout is None else min(timeout, lim.wall_time_s)
        self.cgroup.reset_peak()
        before = self.cgroup.snapshot()
        env = self.guest_env(env)
        # guest/reap.sh: after the command, no process of the sandbox uid survives (spawned
        # long-lived processes excepted), and the exit-time facts go to the host
        env["OURO_SPARE_PIDS"] = " ".join(str(p.pid) for p in list(self._spawned) if p.pid and not p.reader.eof)
        raw = self._raw(self._wrap(["/bin/sh", f"{GUEST_IN_SANDBOX}/reap.sh", *argv]), timeout=timeout,
                        cap=lim.output_bytes, input=input, env=env, cwd=cwd, watch=True)
        after = self.cgroup.snapshot()
        stdout = raw.stdout.decode("utf-8", "replace")
        stderr = raw.stderr.decode("utf-8", "replace")
        from ouro.sandbox.audit.channel import split_audit_lines

        stderr, events = split_audit_lines(stderr)
        reason = raw.killed_for or self._classify(raw, stderr, before, after)
        if reason == EndReason.TIMEOUT and self.runtime == "runsc" and _FORK_ERRORS.search(stderr[-4000:]):
            # gVisor: a fork bomb whose processes die and respawn can stay just under the limit
            # whenever the probe counts them, and then runs into the wall time; forks refused at
            # the limit are the evidence of what it was
            reason = EndReason.PIDS_LIMIT
        if reason == EndReason.OOM and self.runtime == "runsc":
            self._settle_after_oom()
        return ExecResult(exit_code=raw.exit_code, stdout=stdout, stderr=stderr, duration_s=raw.duration_s,
                          reason=reason, stdout_truncated=raw.truncated_out, stderr_truncated=raw.truncated_err,
                          audit_events=events)

    def _classify(self, raw: _RawResult, stderr: str, before: tuple, after: tuple) -> EndReason:
        code = raw.exit_code
        if code == 0:
            return EndReason.NORMAL

        def rose(i):
            return before[i] is not None and after[i] is not None and after[i] > before[i]

        if rose(1):
            return EndReason.OOM
        if not self.alive():
            # gVisor's sandbox as a whole is OOM-killed by the host when memory runs out
            return self._stopped_reason()
        if rose(0):
            return EndReason.PIDS_LIMIT
        tail = stderr[-4000:]
        if code == 128 + 25 or _DISK_ERRORS.search(tail):
            return EndReason.DISK_LIMIT
        if "MemoryError" in tail and (rose(2) or self.backend == "gvisor"):
            return EndReason.OOM
        if code == 137:
            return EndReason.OOM if rose(2) or self.cgroup.peaked_at_limit() else EndReason.KILLED
        if self.cgroup.dirs.get("pids") is None or self.runtime == "runsc":
            if _FORK_ERRORS.search(tail):
                return EndReason.PIDS_LIMIT
        if code is not None and 128 < code < 128 + 32 and code != 128 + 2:
            return EndReason.KILLED
        return EndReason.NORMAL

    def _stopped_reason(self) -> EndReason:
        """The container stopped under a command: OOM when docker says so. Docker sets OOMKilled
        from the kernel's OOM event, which can arrive just after the stop, so look again for a
        moment before calling it a plain kill (under heavy load it can come seconds late: this
        path runs only when a whole sandbox went down, so waiting costs little), and take a
        memory peak at the limit as the same evidence."""
        deadline = time.monotonic() + 10.0
        while not (state := self._state()).get("OOMKilled"):
            if self.cgroup.peaked_at_limit():
                return EndReason.OOM
            if self.runtime == "runsc" and state.get("ExitCode") == 137 and not state.get("Running"):
                # code in a gVisor sandbox cannot signal the sentry: a sentry SIGKILLed while ouro
                # stopped nothing was killed by the host's OOM killer (docker does not always
                # see that event: the sentry is not the container's first process)
                return EndReason.OOM
            if time.monotonic() >= deadline:
                return EndReason.KILLED
            time.sleep(0.1)
        return EndReason.OOM

    def _check_usable(self) -> None:
        if self._closed:
            raise SandboxError("sandbox is closed")
        if self._broken:
            raise SandboxError(f"the sandbox {self._broken}; start a new sandbox")

    def _settle_after_oom(self) -> None:
        """gVisor: after the host OOM-kills part of the sandbox, the container can still report
        Running for a moment while refusing execs ("cannot execute in container"). One probe
        tells a sandbox that survived from one that is going down; the latter is marked broken
        so that alive() says no at once and the next command says why."""
        if not self._state().get("Running"):
            return   # already stopped: alive() is truthful
        try:
            ok = self._raw(["/bin/true"], timeout=3, cap=4096, kill_on_limit=False).exit_code == 0
        except SandboxError:
            ok = False
        if not ok:
            self._broken = "ran out of memory and stopped accepting commands"

    def _state(self) -> dict:
        try:
            return self.client.api.inspect_container(self.id)["State"]
        except Exception:
            return {}

    def spawn(self, argv: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None) -> DockerProcess:
        """Start a long-lived process with stdin/stdout pipes (over the exec's attach socket)."""
        self._check_usable()
        api = self.client.api
        wrapped = ["/bin/sh", "-c", 'echo "OURO-PID $$" >&2; exec "$@"', "ouro-spawn", *self._wrap(argv)]
        try:
            exec_id = api.exec_create(self.id, wrapped, stdin=True, user=f"{self.policy.uid}:{self.policy.uid}",
                                      environment=self.guest_env(env), workdir=cwd or WORKSPACE)["Id"]
            sock = api.exec_start(exec_id, socket=True)
        except Exception as e:
            raise SandboxError(f"docker exec failed: {getattr(e, 'explanation', None) or e}") from None
        proc = DockerProcess(self, exec_id, sock)
        proc.read_pid(timeout=30)   # guest/reap.sh spares it by this pid from the next exec on
        self._spawned.add(proc)
        return proc

    # ------------------------------------------------------------------ files

    def _abs(self, path: str) -> str:
        p = Path(path)
        if ".." in p.parts:
            raise ValueError(f"path must not contain '..': {path}")
        return str(p if p.is_absolute() else Path(WORKSPACE) / p)

    def _checked(self, argv: list[str], *, input: bytes | None = None, cap: int = 1 << 20, timeout: float = 300) -> bytes:
        raw = self._raw(argv, timeout=timeout, cap=cap, input=input)
        if raw.exit_code != 0 or raw.killed_for:
            msg = raw.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SandboxError(f"{argv[0]} in sandbox failed (exit {raw.exit_code}): {msg[-1] if msg else ''}")
        return raw.stdout

    def write_files(self, files: dict[str, bytes]) -> None:
        """Write files (workspace-relative or absolute in-sandbox paths), creating directories."""
        if not files:
            return
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for path, data in files.items():
                info = tarfile.TarInfo(self._abs(path).lstrip("/"))
                info.size = len(data)
                info.mode = 0o644
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(data))
        self._checked(["tar", "-x", "-m", "--no-same-owner", "--no-overwrite-dir", "-C", "/", "-f", "-"], input=buf.getvalue())

    def delete_files(self, paths: list[str]) -> None:
        if paths:
            self._checked(["rm", "-rf", "--", *[self._abs(p) for p in paths]])

    def read_file(self, path: str) -> bytes:
        # a regular file only, never through a link, never a FIFO that blocks (sandbox-written files)
        raw = self._raw(["/bin/sh", "-c", 'test -f "$1" && test ! -h "$1" || { echo "$1: not a regular file" >&2; '
                         'exit 3; }; exec head -c "$2" -- "$1"', "ouro-read", self._abs(path), str(READ_CAP)],
                        timeout=120, cap=READ_CAP + 1)
        if raw.exit_code != 0:
            raise FileNotFoundError(f"{path} (in sandbox): {raw.stderr.decode('utf-8', 'replace').strip()}")
        return raw.stdout

    def copy_in(self, host_dir: Path) -> None:
        """Replace the workspace content with a copy of host_dir (VCS dirs and caches left out)."""
        host_dir = Path(host_dir)
        if not host_dir.is_dir():
            raise SandboxError(f"{host_dir}: not a directory")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for entry in sorted(host_dir.iterdir()):
                if entry.name not in COPY_EXCLUDES:
                    tar.add(entry, arcname=entry.name, filter=_strip_owner)
        self._checked(["find", WORKSPACE, "-mindepth", "1", "-delete"])
        self._checked(["tar", "-x", "-m", "--no-same-owner", "-C", WORKSPACE, "-f", "-"], input=buf.getvalue())

    def copy_out(self, host_dir: Path, src: str | None = None, max_bytes: int = TRANSFER_CAP) -> None:
        """Copy the workspace (or the in-sandbox directory `src`) to host_dir: tar over an exec,
        streamed to a temporary file up to max_bytes, then unpacked by `_unpack_plain`, which
        keeps regular files and directories only (no link of either kind, whatever it points
        at) and never relies on tarfile's own filters (this host's Python may predate their
        2025 fixes)."""
        import tempfile

        host_dir = Path(host_dir)
        host_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile() as spool:
            raw = self._raw(["tar", "-c", "-C", self._abs(src) if src else WORKSPACE, "."], timeout=1800,
                            cap=max_bytes, sink=spool.write)
            if raw.exit_code != 0 or raw.killed_for:
                why = raw.killed_for.value if raw.killed_for else raw.stderr.decode("utf-8", "replace").strip()[-200:]
                raise SandboxError(f"copying {src or WORKSPACE} out of the sandbox failed: {why}")
            spool.seek(0)
            try:
                _unpack_plain(spool, host_dir)
            except (tarfile.TarError, OSError) as e:
                raise SandboxError(f"copying {src or WORKSPACE} out of the sandbox failed: {e}") from None


def _hang_up(sock: socket.socket) -> None:
    """Really end the connection: close() alone keeps the fd open while the HTTP response's
    file object still references the socket, and dockerd keeps streaming into it."""
    for how in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
        try:
            how()
        except OSError:
            pass


def _feed(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # EOF on the process's stdin
    except OSError:
        pass


def _plain_name(name: str) -> tuple[str, ...] | None:
    """A member's path as components when it is relative and plain (no `..`, nothing absolute,
    no NUL), else None."""
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if name.startswith("/") or not parts or any(p == ".." or "\0" in p for p in parts):
        return None
    return parts


def _unpack_plain(fileobj, dest: Path) -> int:
    """Unpack a tar the sandbox wrote into `dest`: directories and regular files only, under
    plain relative names; every symbolic link, hard link, device, FIFO and anything else is
    dropped. Each component is created or entered without following a link (O_NOFOLLOW, and
    directories by descriptor), a file is created exclusively (O_EXCL; an entry already there
    is unlinked first, never written through), modes are 0644 or 0755 (no set-id bits).
    Returns the members unpacked."""
    import stat

    unpacked = 0
    dest_fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with tarfile.open(fileobj=fileobj, mode="r|") as tar:
            for member in tar:
                if not (member.isreg() or member.isdir()):
                    continue
                parts = _plain_name(member.name)
                if parts is None:
                    continue
                fd = os.dup(dest_fd)
                try:
                    for i, part in enumerate(parts[:-1] if member.isreg() else parts):
                        try:
                            os.mkdir(part, 0o755, dir_fd=fd)
                        except FileExistsError:
                            pass
                        nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                        os.close(fd)
                        fd = nxt
                    if member.isdir():
                        unpacked += 1
                        continue
                    mode = 0o755 if member.mode & 0o111 else 0o644
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                    try:
                        out = os.open(parts[-1], flags, mode, dir_fd=fd)
                    except FileExistsError:   # a copy into a used directory: replace the entry, never write through it
                        os.unlink(parts[-1], dir_fd=fd)
                        out = os.open(parts[-1], flags, mode, dir_fd=fd)
                    with os.fdopen(out, "wb") as f, tar.extractfile(member) as data:
                        while chunk := data.read(1 << 20):
                            f.write(chunk)
                    if not stat.S_ISREG(os.stat(parts[-1], dir_fd=fd, follow_symlinks=False).st_mode):
                        raise OSError(f"{member.name}: not a regular file after writing it")
                    unpacked += 1
                finally:
                    os.close(fd)
    finally:
        os.close(dest_fd)
    return unpacked


def _strip_owner(info: tarfile.TarInfo):
    if info.name.split("/")[-1] in COPY_EXCLUDES:
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _proc_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None

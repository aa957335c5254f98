"""Host-side process execution shared by the process-based backends (local, bwrap).

One place holds the rules every execution obeys, so backends cannot drift apart:
- a hard wall-clock timeout, after which the whole process group is SIGKILLed;
- an output cap on stdout+stderr together; past it the group is killed (an endless print
  loop must not fill the host's memory or disk);
- rlimits applied in the child before exec (nofile, fsize, core=0, address space, nproc);
- a reason for the end (sandbox.base.EndReason) derived from what we did (timeout, cap) or
  what the kernel/interpreter said (SIGXFSZ, MemoryError, fork failing with EAGAIN...).

`classify_exit` and `CappedReader` are plain functions/classes so the docker backend can
reuse the same capping and reason logic on its own streams.
"""
from __future__ import annotations

import os
import resource
import selectors
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from ouro.sandbox.base import EndReason, ExecResult


@dataclass(frozen=True)
class RLimits:
    """rlimits for the child. None leaves the host's value."""

    nofile: int | None = None
    fsize_bytes: int | None = None
    address_space_bytes: int | None = None
    nproc: int | None = None
    core: int = 0

    @classmethod
    def from_policy(cls, limits, *, nproc: bool) -> "RLimits":
        # RLIMIT_NPROC counts every process of the real uid on the host, so it is only a
        # pids limit when the sandbox runs as a uid of its own (bwrap), never for `local`.
        return cls(
            nofile=limits.nofile,
            fsize_bytes=limits.fsize_mb << 20,
            address_space_bytes=limits.memory_mb << 20,
            nproc=limits.pids if nproc else None,
        )

    def apply(self) -> None:
        """Called in the child between fork and exec."""
        pairs = [
            (resource.RLIMIT_NOFILE, self.nofile),
            (resource.RLIMIT_FSIZE, self.fsize_bytes),
            (resource.RLIMIT_AS, self.address_space_bytes),
            (resource.RLIMIT_NPROC, self.nproc),
            (resource.RLIMIT_CORE, self.core),
        ]
        for what, value in pairs:
            if value is not None:
                resource.setrlimit(what, (value, value))


# Text that tells us which limit a process ran into when it exits by itself with an error.
# Only the tail of stderr is inspected: a traceback ends there, and a test suite that merely
# mentions MemoryError in the middle of its output must not be labelled OOM.
_STDERR_HINTS: list[tuple[EndReason, tuple[str, ...]]] = [
    (EndReason.OOM, ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")),
    (EndReason.PIDS_LIMIT, ("BlockingIOError: [Errno 11]", "fork: Resource temporarily unavailable",
                            "fork: retry", "Cannot fork", "can't start new thread")),
    (EndReason.DISK_LIMIT, ("No space left on device", "File too large", "Disk quota exceeded")),
]


def classify_exit(returncode: int | None, stderr: str, *, we_killed: EndReason | None = None) -> EndReason:
    """Why a process ended, given its return code (negative = signal, as subprocess reports)."""
    if we_killed is not None:
        return we_killed
    if returncode is None:
        return EndReason.KILLED
    if returncode < 0:
        sig = -returncode
        if sig == signal.SIGXFSZ:
            return EndReason.DISK_LIMIT
        if sig == signal.SIGKILL:
            # Nobody on our side sent it: inside a memory-limited sandbox that is the OOM killer.
            return EndReason.OOM if "memory" in stderr[-2000:].lower() else EndReason.KILLED
        return EndReason.KILLED
    if returncode == 128 + signal.SIGXFSZ:  # a shell reports a child's SIGXFSZ like this
        return EndReason.DISK_LIMIT
    if returncode != 0:
        tail = stderr[-2000:]
        for reason, needles in _STDERR_HINTS:
            if any(n in tail for n in needles):
                return reason
    return EndReason.NORMAL


class CappedReader:
    """Collects two streams with one shared byte budget; reports when the budget is exceeded."""

    def __init__(self, cap: int):
        self.cap = cap
        self.total = 0
        self.chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        self.truncated = {"stdout": False, "stderr": False}

    def feed(self, name: str, data: bytes) -> bool:
        """Add data; return False once the cap is exceeded (the caller then kills the process)."""
        room = self.cap - self.total
        if len(data) > room:
            self.chunks[name].append(data[:max(room, 0)])
            self.total = self.cap
            self.truncated[name] = True
            return False
        self.chunks[name].append(data)
        self.total += len(data)
        return True

    def text(self, name: str) -> str:
        return b"".join(self.chunks[name]).decode("utf-8", "replace")

    @property
    def over(self) -> bool:
        return self.truncated["stdout"] or self.truncated["stderr"]


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group the child leads (it was started in a new session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def _popen(argv: list[str], rlimits: RLimits | None, **kw) -> subprocess.Popen:
    """subprocess.Popen with `rlimits` set in the child, between fork and exec.

    A preexec step makes Python run its at-fork handlers (logging's among them) in this process
    around the fork, and a KeyboardInterrupt raised inside one of those is printed as "Exception
    ignored" and lost: a Ctrl-C at that moment would not stop ouro. So while the child starts,
    a Python-level SIGINT handler (handlers run in the main thread only) is replaced by one that
    only notes the signal, which is delivered again once the child has started, or failed to."""
    if rlimits is None:
        return subprocess.Popen(argv, **kw)
    noted: list[int] = []
    previous = None
    if threading.current_thread() is threading.main_thread() and callable(signal.getsignal(signal.SIGINT)):
        previous = signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
    proc = None
    try:
        proc = subprocess.Popen(argv, preexec_fn=rlimits.apply, **kw)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if noted:
            if proc is not None:
                kill_group(proc)
                proc.wait()
            signal.raise_signal(signal.SIGINT)
    return proc


def run_capped(
    argv: list[str],
    *,
    timeout: float,
    output_bytes: int,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    rlimits: RLimits | None = None,
    pass_fds: tuple[int, ...] = (),
    split_audit: bool = True,
    watch=None,
    watch_every: float = 0.25,
) -> ExecResult:
    """Run argv to completion under a hard timeout and an output cap; never raises for the
    child's behaviour (only for a missing executable, which is a SandboxError upstream).

    watch: optional callable polled every `watch_every` seconds while the child runs; when it
    returns an EndReason the process group is killed with that reason (bwrap uses it to
    bound the total size of its bound workspace)."""
    start = time.monotonic()
    proc = _popen(argv, rlimits, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  env=env, cwd=cwd, start_new_session=True, pass_fds=pass_fds)
    reader = CappedReader(output_bytes)
    we_killed: EndReason | None = None
    deadline = start + timeout
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    try:
        open_streams = 2
        next_watch = start + watch_every
        while open_streams:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                we_killed = EndReason.TIMEOUT
                kill_group(proc)
                break
            if watch is not None and now >= next_watch:
                next_watch = now + watch_every
                verdict = watch()
                if verdict is not None:
                    we_killed = verdict
                    kill_group(proc)
                    break
            for key, _ in sel.select(timeout=min(left, watch_every if watch else 0.5)):
                data = os.read(key.fileobj.fileno(), 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if not reader.feed(key.data, data):
                    we_killed = EndReason.OUTPUT_CAP
                    kill_group(proc)
                    open_streams = 0
                    break
        # Streams closed but the process may still run (it closed its stdout) — the
        # timeout still holds for it.
        while we_killed is None:
            try:
                proc.wait(timeout=max(0.0, min(deadline - time.monotonic(), watch_every if watch else 1e9)))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    we_killed = EndReason.TIMEOUT
                    kill_group(proc)
                elif watch is not None and (verdict := watch()) is not None:
                    we_killed = verdict
                    kill_group(proc)
        proc.wait()
        # Grandchildren that kept the group alive after the leader exited are killed too.
        kill_group(proc)
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    stderr = reader.text("stderr")
    events: list[dict] = []
    if split_audit:
        stderr, events = split_audit_stream(stderr)
    return ExecResult(
        exit_code=proc.returncode,
        stdout=reader.text("stdout"),
        stderr=stderr,
        duration_s=time.monotonic() - start,
        reason=classify_exit(proc.returncode, stderr, we_killed=we_killed),
        stdout_truncated=reader.truncated["stdout"],
        stderr_truncated=reader.truncated["stderr"],
        audit_events=events,
    )


def split_audit_stream(stderr: str) -> tuple[str, list[dict]]:
    """Separate the audit hook's event lines from stderr (sandbox.audit owns the format)."""
    from ouro.sandbox.audit.channel import split_audit_lines

    return split_audit_lines(stderr)


class Unread:
    """Output not yet read by its consumer, bounded: past `keep` bytes the oldest is dropped,
    and the next read says how much (a flood must not grow the host's memory)."""

    def __init__(self, keep: int):
        self.keep = keep
        self.data = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        self.data += data
        if len(self.data) > self.keep:
            self.dropped += len(self.data) - self.keep
            del self.data[:-self.keep]

    def take(self) -> str:
        text = bytes(self.data).decode("utf-8", "replace")
        if self.dropped:
            text = f"[{self.dropped} bytes of stderr dropped]\n" + text
        self.data.clear()
        self.dropped = 0
        return text


class PipeProcess:
    """A long-lived child talked to over stdin/stdout (sandbox.base.SandboxProcess).

    stderr is drained by a thread into a bounded buffer so a chatty child never blocks on a
    full pipe; `stderr_tail()` returns the most recent part for error messages.
    """

    STDERR_KEEP = 64 * 1024
    UNREAD_KEEP = 1 << 20

    def __init__(self, argv: list[str], *, env=None, cwd=None, rlimits: RLimits | None = None,
                 pass_fds: tuple[int, ...] = ()):
        self.proc = _popen(argv, rlimits, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env, cwd=cwd, start_new_session=True, pass_fds=pass_fds)
        self._buf = b""
        self._stderr = bytearray()
        self._unread = Unread(self.UNREAD_KEEP)
        self._lock = threading.Lock()
        self._drain = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drain.start()

    def _drain_stderr(self) -> None:
        fd = self.proc.stderr.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._stderr += data
                del self._stderr[:-self.STDERR_KEEP]
                self._unread.add(data)

    def stderr_tail(self) -> str:
        with self._lock:
            return bytes(self._stderr).decode("utf-8", "replace")

    def read_stderr(self) -> str:
        """What the process wrote to stderr since the last call (after kill(): all of it)."""
        with self._lock:
            return self._unread.take()

    def write(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def readline(self, timeout: float | None = None) -> bytes:
        """One line including its newline; b"" on EOF or when the timeout passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return b""
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_READ)
                if not sel.select(timeout=left):
                    return b""
            data = os.read(fd, 1 << 20)
            if not data:
                line, self._buf = self._buf, b""
                return line
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return line + b"\n"

    def kill(self) -> None:
        kill_group(self.proc)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._drain.join(timeout=1.0)   # what it wrote last is read before anyone asks for it
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    def alive(self) -> bool:
        return self.proc.poll() is None

"""Each limit of the policy is enforced, ends the execution with the right EndReason within
twice the configured wall limit, leaves the host responsive, and leaves no container behind.

Small limits keep this fast: wall 5 s, 256 MB, 64 processes, 64 MB disk, 32 MB per file.
gVisor runs out of memory as a whole sandbox (the host OOM-kills its sentry), so its fork
bomb gets more memory than 32 processes need, to hit the pids limit first.
"""
from __future__ import annotations

import threading
import time

import pytest

from ouro.sandbox.base import EndReason
from ouro.sandbox.docker_backend import DockerSandbox
from ouro.sandbox.policy import load_policy

WALL = 5.0
COUNT_UID_PROCS = ('n=0; for f in /proc/[0-9]*/status; do while read -r k a b; do '
                   'if [ "$k" = Uid: ]; then [ "$a" = 10001 ] && n=$((n+1)); break; fi; done < "$f"; done; echo $n')

CASES = {
    "fork_bomb": (["python3", "-c", "import os\nwhile True:\n    try: os.fork()\n    except OSError: pass"],
                  EndReason.PIDS_LIMIT),
    "shell_fork_bomb": (["sh", "-c", "f(){ f|f& }; f; sleep 60"], EndReason.PIDS_LIMIT),
    "alloc_10gb": (["python3", "-c", "b = bytearray(10 * 1024**3)\nprint(len(b))"], EndReason.OOM),
    "endless_print": (["python3", "-c", "while True: print('spam' * 20)"], EndReason.OUTPUT_CAP),
    "sleep_past_timeout": (["sleep", "100"], EndReason.TIMEOUT),
    "write_10gb_file": (["dd", "if=/dev/zero", "of=/workspace/big", "bs=1M", "count=10240"], EndReason.DISK_LIMIT),
    # many files each under the per-file limit: the sized tmpfs fills up instead (ENOSPC)
    "fill_tmp": (["python3", "-c", "i = 0\nwhile True:\n    open(f'/tmp/f{i}', 'wb').write(b'x' * (8 << 20)); i += 1"],
                 EndReason.DISK_LIMIT),
}


class Heartbeat:
    """Measures the host's responsiveness: the longest gap between 50 ms ticks of a thread."""

    def __init__(self):
        self.worst = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        last = time.monotonic()
        while not self._stop.wait(0.05):
            now = time.monotonic()
            self.worst = max(self.worst, now - last)
            last = now

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


@pytest.mark.parametrize("case", list(CASES))
def test_limit_enforced(case, container_backend, labelled_containers):
    argv, expected = CASES[case]
    memory = 1024 if (container_backend == "gvisor" and "fork" in case) else 256
    pids = 32 if container_backend == "gvisor" else 64
    policy = load_policy().with_limits(wall_time_s=WALL, memory_mb=memory, pids=pids, output_bytes=100_000,
                                       disk_mb=64, fsize_mb=32)
    box = DockerSandbox.start(policy, runtime="runsc" if container_backend == "gvisor" else None,
                              labels={"ouro.purpose": f"limit-test-{case}"})
    try:
        with Heartbeat() as hb:
            t0 = time.monotonic()
            r = box.exec(argv)
            took = time.monotonic() - t0
        assert r.reason == expected, (r.reason, r.exit_code, r.stderr[-300:])
        assert took < 2 * WALL, f"{case} took {took:.1f}s (limit {WALL}s)"
        assert hb.worst < 2.0, f"host stalled for {hb.worst:.1f}s"
        if expected == EndReason.OUTPUT_CAP:
            assert len(r.stdout) + len(r.stderr) <= 100_000 and r.stdout_truncated
        if box.alive():  # the sandbox survives its limit (a gVisor OOM takes the sandbox down)
            after = box.exec(["sh", "-c", "echo still-here"])
            assert after.ok and after.stdout == "still-here\n", after
            # nothing the code started survives it: of the sandbox uid's processes only the
            # backend's killer shell (and this probe under its exec wrapper, guest/reap.sh) may be left
            procs = box.exec(["sh", "-c", COUNT_UID_PROCS])
            assert int(procs.stdout) <= 3, procs.stdout
        else:
            # gVisor: memory exhaustion kills the whole sandbox; a fork bomb that cannot be
            # stopped in time gets its container killed by the backend
            assert container_backend == "gvisor" and expected in (EndReason.OOM, EndReason.PIDS_LIMIT)
    finally:
        box.close()
    assert labelled_containers() == []

"""The bwrap backend, attacked for real: network, file system, capabilities, uid, limits.

Needs bubblewrap and the Debian root file system (sandbox.images.base_rootfs(), built once
by `ouro sandbox build`); skipped with the reason when either is missing.
"""
from __future__ import annotations

import os
import socket
import statistics
import time
from pathlib import Path

import pytest

from ouro.sandbox.base import EndReason, SandboxError
from ouro.sandbox.bwrap_backend import BwrapSandbox
from ouro.sandbox.policy import load_policy
from ouro.sandbox.testrun import run_tests_cold

pytestmark = pytest.mark.bwrap
MINI = Path(__file__).resolve().parents[1] / "fixtures" / "miniproj"


@pytest.fixture(scope="module")
def policy(bwrap_ready):
    # small limits so each attack ends fast; the same code paths as the defaults
    return load_policy().with_backend("bwrap").with_limits(
        memory_mb=256, pids=64, wall_time_s=5.0, output_bytes=64 * 1024, disk_mb=32, fsize_mb=16, nofile=64)


@pytest.fixture
def sb(policy):
    s = BwrapSandbox.start(policy, workspace=MINI, audit=False)
    yield s
    s.close()


def py(sb, code, timeout=None):
    return sb.exec(["python3", "-c", code], timeout=timeout)


def test_no_network_public_or_host_loopback(sb):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        code = ("import socket\n"
                "for addr in [('1.1.1.1', 53), ('127.0.0.1', %d)]:\n"
                "    try:\n"
                "        socket.create_connection(addr, timeout=2); print('CONNECTED', addr)\n"
                "    except OSError as e:\n"
                "        print('blocked', addr, e.errno)\n" % port)
        r = py(sb, code)
        assert r.exit_code == 0, r.stderr
        assert "CONNECTED" not in r.stdout and r.stdout.count("blocked") == 2
    finally:
        listener.close()


def test_read_only_root_writable_workspace_and_tmp(sb):
    r = sb.exec(["sh", "-c", "touch /usr/evil; echo $?; touch /etc/evil; echo $?; "
                             "touch /workspace/ok && echo ws; touch /tmp/ok && echo tmp"])
    assert r.stdout.split() == ["1", "1", "ws", "tmp"], r
    assert "Read-only file system" in r.stderr


def test_no_capabilities_and_non_root_uid_inside_and_on_host(sb):
    r = sb.exec(["sh", "-c", "grep -E '^(CapEff|CapPrm|CapBnd|Uid)' /proc/self/status; touch /workspace/mine"])
    fields = dict(line.split(":", 1) for line in r.stdout.strip().splitlines())
    assert int(fields["CapEff"].strip(), 16) == 0
    assert int(fields["CapPrm"].strip(), 16) == 0
    assert int(fields["CapBnd"].strip(), 16) == 0
    assert fields["Uid"].split()[0] == "10001"
    # the file it wrote is owned by an unprivileged uid on the host as well
    assert os.stat(sb._host_ws / "mine").st_uid != 0


@pytest.mark.parametrize("attack,code,reason", [
    ("fork bomb", "import os\nwhile True:\n    os.fork()", EndReason.PIDS_LIMIT),
    ("10 GB memory", "x = bytearray(10 * 1024**3)", EndReason.OOM),
    ("endless print", "while True: print('x' * 1000)", EndReason.OUTPUT_CAP),
    ("sleep past timeout", "import time; time.sleep(60)", EndReason.TIMEOUT),
    ("10 GB file in workspace", "f = open('/workspace/big', 'wb')\nfor _ in range(10240): f.write(bytes(1 << 20))",
     EndReason.DISK_LIMIT),
    ("10 GB in many files in workspace",
     "for i in range(1280):\n    open(f'/workspace/f{i}', 'wb').write(bytes(8 << 20))", EndReason.DISK_LIMIT),
    ("10 GB file in /tmp", "f = open('/tmp/big', 'wb')\nfor _ in range(10240): f.write(bytes(1 << 20))",
     EndReason.DISK_LIMIT),
])
def test_each_limit_ends_with_its_reason_in_time(sb, policy, attack, code, reason):
    start = time.monotonic()
    r = py(sb, code)
    elapsed = time.monotonic() - start
    assert r.reason == reason, (attack, r.reason, r.exit_code, r.stderr[-500:])
    assert elapsed < 2 * policy.limits.wall_time_s
    # the host stays responsive and nothing of the sandbox is left running
    t = time.monotonic()
    assert sb.exec(["true"]).exit_code == 0 and time.monotonic() - t < 2.0


def test_nofile_limit(sb, policy):
    r = sb.exec(["sh", "-c", "ulimit -n"])
    assert r.stdout.strip() == str(policy.limits.nofile)


def test_host_never_follows_a_planted_symlink(sb):
    sb.exec(["ln", "-s", "/etc/hostname", "/workspace/evil"])
    assert (sb._host_ws / "evil").is_symlink()
    with pytest.raises((SandboxError, OSError)):  # refused: UntrustedFileError for a link, never followed
        sb.read_file("evil")


def test_cold_test_run_inside_bwrap(sb):
    run = run_tests_cold(sb, ["-q", "tests"], 60)
    assert run.complete and run.failed == {"tests/test_ops.py::test_clamp_high"}


def test_starts_in_milliseconds(sb):
    times = []
    for _ in range(5):
        t = time.monotonic()
        assert sb.exec(["true"]).exit_code == 0
        times.append(time.monotonic() - t)
    assert statistics.median(times) < 0.25, times


def test_cgroup_bounds_the_whole_sandbox(policy):
    policy = policy.with_limits(wall_time_s=30.0)  # a loaded machine must not turn this into a timeout
    sb = BwrapSandbox.start(policy, workspace=MINI, audit=False)
    if sb.cgroup is None:
        sb.close()
        pytest.skip("no cgroup v1 controllers writable here (needs root); rlimits only")
    d = sb.cgroup.dirs
    assert int((d["memory"] / "memory.limit_in_bytes").read_text()) == policy.limits.memory_mb << 20
    assert int((d["pids"] / "pids.max").read_text()) == policy.limits.pids
    assert int((d["cpu"] / "cpu.cfs_quota_us").read_text()) == int(policy.limits.cpus * 100_000)
    # many processes, each under RLIMIT_AS, together over the memory limit: the group's OOM
    # killer ends it (rlimits alone would allow pids x memory_mb)
    code = ("import os, sys, time\n"
            "kids = []\n"
            "for _ in range(3):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        x = bytearray(150 << 20); time.sleep(3); os._exit(0)\n"
            "    kids.append(pid)\n"
            "killed = [os.waitpid(k, 0)[1] & 0x7f for k in kids]\n"
            "sys.exit(1 if any(killed) else 0)\n")
    try:
        r = sb.exec(["python3", "-c", code])
        assert r.reason == EndReason.OOM, (r.reason, r.exit_code, r.stderr[-300:])
        oom, _ = sb.cgroup.counters()
        assert oom > 0
        # and while it was held, memory usage never passed the limit
        assert int((d["memory"] / "memory.max_usage_in_bytes").read_text()) <= policy.limits.memory_mb << 20
    finally:
        sb.close()


def test_cgroup_is_removed_on_close(policy):
    s = BwrapSandbox.start(policy, workspace=MINI, audit=False)
    dirs = dict(s.cgroup.dirs) if s.cgroup else {}
    s.exec(["true"])
    s.close()
    assert all(not d.exists() for d in dirs.values())


def test_cgroup_cpu_quota_holds_the_whole_sandbox(policy):
    # a very small quota, so the test tells bounded from unbounded even on a busy machine
    policy = policy.with_limits(cpus=0.05, wall_time_s=30.0)
    sb = BwrapSandbox.start(policy, workspace=MINI, audit=False)
    try:
        if sb.cgroup is None:
            pytest.skip("no cgroup v1 controllers writable here (needs root); rlimits only")
        # two processes spinning for 2 s of wall time would use up to 4 CPU-seconds unbounded
        code = ("import os, time\n"
                "def spin():\n"
                "    end = time.monotonic() + 2.0\n"
                "    while time.monotonic() < end: pass\n"
                "pid = os.fork()\n"
                "spin()\n"
                "if pid == 0: os._exit(0)\n"
                "os.waitpid(pid, 0)\n"
                "t = os.times(); print(t.user + t.system + t.children_user + t.children_system)\n")
        r = sb.exec(["python3", "-c", code])
        used = float(r.stdout.strip())
        assert used <= 0.05 * 2.0 * 1.5 + 0.1, used
        throttled = dict(line.split() for line in (sb.cgroup.dirs["cpu"] / "cpu.stat").read_text().splitlines())
        assert int(throttled["nr_throttled"]) > 0
    finally:
        sb.close()


def test_private_trees_are_mirrored_where_the_sandbox_uid_reaches_them(tmp_path):
    """A checkout under a 0700 directory (mktemp -d) must still give the sandbox its guest code,
    and a changed tree must get a fresh mirror, not a stale one."""
    import os

    from ouro.sandbox.bwrap_backend import _world_traversable, tree_version, visible_to_sandbox

    if os.geteuid() != 0:
        pytest.skip("mirrors are only made as root")
    private = tmp_path / "private"
    tree = private / "guest"
    tree.mkdir(parents=True)
    os.chmod(private, 0o700)
    (tree / "a.py").write_text("x = 1\n")
    first = visible_to_sandbox(tree, version=tree_version(tree))
    assert first != tree and _world_traversable(first)
    assert (first / "a.py").read_text() == "x = 1\n"
    (tree / "a.py").write_text("x = 22\n")
    second = visible_to_sandbox(tree, version=tree_version(tree))
    assert second != first and (second / "a.py").read_text() == "x = 22\n"

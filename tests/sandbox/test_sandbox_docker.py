"""The docker (runc) and gvisor (runsc) backends: isolation properties, files, processes,
reaping. Every check runs real containers; the bwrap tier has its own file."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from ouro.sandbox.base import LABEL, EndReason
from ouro.sandbox.docker_backend import DockerSandbox
from ouro.sandbox.policy import load_policy


def runtime_of(backend: str) -> str | None:
    return "runsc" if backend == "gvisor" else None


@pytest.fixture(scope="module", params=["docker", "gvisor"])
def sb(request, base_image):
    if request.param == "gvisor":
        request.getfixturevalue("runsc_available")
    policy = load_policy().with_limits(wall_time_s=60, memory_mb=512, disk_mb=64)
    box = DockerSandbox.start(policy, runtime=runtime_of(request.param), labels={"ouro.purpose": "test"})
    yield box
    box.close()


def py(sb, code: str, **kw):
    return sb.exec(["python3", "-c", code], **kw)


@pytest.fixture(scope="module")
def host_listener():
    """A TCP server on the host (all interfaces): the sandbox must not reach it."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 0))
    srv.listen(8)
    accepted = []

    def loop():
        while True:
            try:
                conn, addr = srv.accept()
            except OSError:
                return
            accepted.append(addr)
            conn.close()

    threading.Thread(target=loop, daemon=True).start()
    yield srv.getsockname()[1], accepted
    srv.close()


def host_bridge_ip(docker_client) -> str:
    """The host's address on Docker's bridge (docker0): what a container with a network reaches."""
    import ipaddress

    cfg = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    if cfg.get("Gateway"):
        return cfg["Gateway"]
    return str(next(ipaddress.ip_network(cfg["Subnet"]).hosts()))  # docker's default: the first host


def test_no_network(sb, host_listener, docker_client):
    port, accepted = host_listener
    gateway = host_bridge_ip(docker_client)
    targets = [("1.1.1.1", 80), ("8.8.8.8", 53), (gateway, port), ("127.0.0.1", port)]
    code = ("import socket, json\nout = {}\n"
            f"for host, port in {targets!r}:\n"
            "    s = socket.socket(); s.settimeout(3)\n"
            "    try:\n        s.connect((host, port)); out[host] = 'CONNECTED'\n"
            "    except OSError as e:\n        out[host] = type(e).__name__\n"
            "print(json.dumps(out))")
    r = py(sb, code)
    assert r.ok, r
    import json
    results = json.loads(r.stdout)
    assert set(results) == {t[0] for t in targets}
    assert "CONNECTED" not in results.values(), results
    assert accepted == []  # the host's listener never saw the sandbox
    # and there is no interface but loopback
    r = sb.exec(["cat", "/proc/net/dev"])
    ifaces = {line.split(":")[0].strip() for line in r.stdout.splitlines()[2:]}
    assert ifaces <= {"lo"}, ifaces


def test_root_read_only_outside_workspace_and_tmp(sb):
    # /var/tmp is world-writable in Debian, so only a read-only mount can refuse the write
    r = sb.exec(["sh", "-c", "for d in /var/tmp /usr /etc /; do touch $d/ouro-x 2>&1 && echo WROTE $d; done; "
                             "touch /workspace/ok /tmp/ok && echo writable"])
    assert "WROTE" not in r.stdout, r.stdout
    assert "Read-only file system" in r.stdout  # /var/tmp
    assert r.stdout.strip().endswith("writable")


def test_no_capabilities_non_root(sb):
    r = sb.exec(["sh", "-c", "id -u; grep -E '^Cap(Eff|Prm|Amb)' /proc/self/status"])
    lines = r.stdout.split("\n")
    assert lines[0] == "10001"
    caps = dict(line.split(":\t") for line in lines[1:] if line)
    assert caps and all(int(v, 16) == 0 for v in caps.values()), caps


def test_hardened_container_config(sb, docker_client):
    attrs = docker_client.api.inspect_container(sb.id)
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd")
    assert "no-new-privileges" in host["SecurityOpt"]
    assert not any("unconfined" in o for o in host["SecurityOpt"])  # default seccomp stays on
    assert host["Privileged"] is False
    assert host["Memory"] == host["MemorySwap"] == 512 << 20
    assert host["PidsLimit"] > 0 and host["NanoCpus"] > 0 and host["Init"] is True
    assert {u["Name"] for u in host["Ulimits"]} >= {"nofile", "fsize", "core"}
    assert set(host["Tmpfs"]) == {"/workspace", "/tmp"}
    assert not any("docker.sock" in b for b in host.get("Binds") or [])
    assert attrs["Config"]["Labels"][LABEL] == "1"
    assert attrs["Config"]["Labels"]["ouro.owner_pid"] == str(os.getpid())


def test_files_round_trip(sb, tmp_path):
    src = tmp_path / "repo"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "mod.py").write_text("X = 1\n")
    (src / ".git").mkdir()
    (src / ".git" / "HEAD").write_text("ref\n")
    sb.copy_in(src)
    assert sb.read_file("pkg/mod.py") == b"X = 1\n"
    assert sb.exec(["test", "-e", "/workspace/.git"]).exit_code == 1  # VCS data stays on the host
    sb.write_files({"pkg/new/deep.py": b"Y = 2\n", "/tmp/scratch.bin": bytes(range(256))})
    assert sb.read_file("/tmp/scratch.bin") == bytes(range(256))
    r = sb.exec(["python3", "-c", "import pkg.mod, pkg.new.deep as d; print(pkg.mod.X + d.Y)"])
    assert r.stdout.strip() == "3", r
    sb.delete_files(["pkg/mod.py"])
    with pytest.raises(FileNotFoundError):
        sb.read_file("pkg/mod.py")
    out = tmp_path / "out"
    sb.copy_out(out)
    assert (out / "pkg/new/deep.py").read_text() == "Y = 2\n" and not (out / "pkg/mod.py").exists()
    # copy_in replaces, not merges
    sb.copy_in(src)
    assert sb.exec(["test", "-e", "/workspace/pkg/new/deep.py"]).exit_code == 1


def test_exec_result_fields_and_audit_env(sb):
    r = sb.exec(["sh", "-c", "echo out; echo err >&2; echo $OURO_AUDIT $PYTHONPATH; exit 3"])
    assert (r.exit_code, r.reason) == (3, EndReason.NORMAL)
    assert r.stdout.splitlines() == ["out", "1 /opt/ouro/guest/boot"]
    assert "err" in r.stderr and r.duration_s > 0
    assert sb.exec(["test", "-r", "/opt/ouro/guest/runner.py"]).exit_code == 0
    assert sb.exec(["touch", "/opt/ouro/guest/x"]).exit_code != 0  # guest code is read-only


def test_spawn_talks_over_pipes(sb):
    proc = sb.spawn(["python3", "-u", "-c", "import sys\nfor l in sys.stdin: print(l.strip()[::-1], flush=True)"])
    try:
        proc.write(b"abc\n")
        assert proc.readline(timeout=20) == b"cba\n"
        proc.write(b"xyz\n")
        assert proc.readline(timeout=20) == b"zyx\n"
        assert proc.alive()
    finally:
        proc.kill()
    deadline = time.monotonic() + 10
    while proc.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not proc.alive()
    assert sb.exec(["true"]).ok  # killing the process left the sandbox usable


def test_a_command_leaves_nothing_to_reap_and_spares_spawned_processes(sb):
    """guest/reap.sh kills what a command leaves behind, but not ouro's own long-lived processes
    (a warm worker; on gVisor the killer shell started with the sandbox): a plain command must
    count no leftover, and a process spawned before it must survive it."""
    proc = sb.spawn(["cat"])
    try:
        r = sb.exec(["true"])
        reap = [e for e in r.audit_events if e.get("ctl") == "reap"]
        assert reap and reap[0]["left"] == 0, r.audit_events
        assert proc.alive()
        proc.write(b"still here\n")
        assert proc.readline(timeout=20) == b"still here\n"
    finally:
        proc.kill()


def test_reaper_removes_only_dead_owners(docker_client, base_image):
    from ouro.sandbox import reaper

    dead_pid = 2**22 + 12345  # above pid_max defaults: no such process
    mk = lambda owner: docker_client.containers.run(  # noqa: E731
        base_image, ["sleep", "60"], detach=True, network_mode="none",
        labels={LABEL: "1", "ouro.owner_pid": str(owner), "ouro.purpose": "reaper-test"})
    dead, alive = mk(dead_pid), mk(os.getpid())
    try:
        removed = reaper.reap(docker_client)
        # another ouro process starting a sandbox right now may reap the dead one first, and
        # its removal can still be under way when we list
        assert alive.id not in removed
        deadline = time.monotonic() + 20
        while True:
            ids = {c.id for c in reaper.list_sandboxes(docker_client)}
            if dead.id not in ids or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert alive.id in ids and dead.id not in ids
    finally:
        for c in (dead, alive):
            try:
                c.remove(force=True)
            except Exception:
                pass


def test_close_removes_the_container(base_image, labelled_containers):
    box = DockerSandbox.start(load_policy().with_limits(wall_time_s=30))
    assert box.id in labelled_containers()
    box.close()
    assert box.id not in labelled_containers()


def test_cpu_and_open_files_limits(container_backend):
    policy = load_policy().with_limits(cpus=0.5, nofile=64, wall_time_s=60)
    with DockerSandbox.start(policy, runtime=runtime_of(container_backend)) as box:
        # two processes spin for 2 s of wall time: with half a CPU they get about 1 CPU-second
        # between them, where an unlimited container on this 2-core machine gets up to 4
        code = ("import os, time\n"
                "pids = []\n"
                "for _ in range(2):\n"
                "    pid = os.fork()\n"
                "    if pid == 0:\n"
                "        end = time.time() + 2\n"
                "        while time.time() < end: pass\n"
                "        os._exit(0)\n"
                "    pids.append(pid)\n"
                "for p in pids: os.waitpid(p, 0)\n"
                "t = os.times(); print(t.children_user + t.children_system)")
        # measured on the host, from the container's cgroup: gVisor's guest clock counts time
        # its throttled sentry spent waiting as running
        usage = Path("/sys/fs/cgroup/cpuacct/docker") / box.id / "cpuacct.usage"
        if not usage.exists():
            pytest.skip("no cgroup v1 cpuacct for the container here")
        before = int(usage.read_text())
        r = py(box, code)
        used = (int(usage.read_text()) - before) / 1e9
        assert r.ok, r
        assert used < 0.5 * r.duration_s * 1.3 + 0.2, f"used {used:.2f} CPU-seconds in {r.duration_s:.1f}s with cpus=0.5"
        assert used > 0.1, used  # and it did run (less than its share on a busy host)
        r = py(box, "import os\nfds = []\ntry:\n    while True: fds.append(os.open('/dev/null', os.O_RDONLY))\n"
                    "except OSError as e: print(len(fds), e.errno)")
        count, errno = r.stdout.split()
        assert errno == "24" and int(count) < 64, r.stdout  # EMFILE below the nofile limit

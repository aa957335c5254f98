"""Finding, starting and configuring the Docker daemon (no systemd on this kind of machine).

Used by `ouro sandbox setup` and `ouro sandbox doctor`. Every action that needs root says so
instead of failing obscurely; nothing here runs unless asked.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMON_JSON = Path("/etc/docker/daemon.json")
DOCKERD_LOG = Path("/var/log/ouro-dockerd.log")
APT_PACKAGES = {"docker": "docker.io", "dockerd": "docker.io", "runsc": "runsc", "bwrap": "bubblewrap",
                "debootstrap": "debootstrap"}


@dataclass
class DaemonInfo:
    running: bool
    runtimes: list[str] = field(default_factory=list)
    error: str = ""


def is_root() -> bool:
    return os.geteuid() == 0


def daemon_info(timeout: float = 15) -> DaemonInfo:
    """`docker info`: is the daemon answering, and which runtimes does it know."""
    if not shutil.which("docker"):
        return DaemonInfo(False, error="the docker client is not installed")
    try:
        proc = subprocess.run(["docker", "info", "--format", "{{json .Runtimes}}"], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return DaemonInfo(False, error="`docker info` timed out")
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return DaemonInfo(False, error=lines[-1] if lines else f"docker info exited {proc.returncode}")
    try:
        runtimes = sorted(json.loads(proc.stdout or "{}") or {})
    except json.JSONDecodeError:
        runtimes = []
    return DaemonInfo(True, runtimes)


def wait_for_daemon(timeout: float = 60, want_runtime: str | None = None) -> DaemonInfo:
    deadline = time.monotonic() + timeout
    info = daemon_info()
    while time.monotonic() < deadline:
        if info.running and (want_runtime is None or want_runtime in info.runtimes):
            return info
        time.sleep(0.5)
        info = daemon_info()
    return info


def apt_install(packages: list[str]) -> tuple[bool, str]:
    """apt-get install the given Debian packages (root only). Returns (ok, message)."""
    if not packages:
        return True, "nothing to install"
    if not is_root():
        return False, f"not root: install them with `sudo apt-get install -y {' '.join(packages)}`"
    if not shutil.which("apt-get"):
        return False, f"no apt-get on this machine: install {' '.join(packages)} with your package manager"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    proc = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *packages], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env)
        proc = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *packages], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
        return False, f"apt-get install {' '.join(packages)} failed: {tail[0]}"
    return True, f"installed {' '.join(packages)}"


def missing_packages() -> list[str]:
    """Debian packages whose programs are not on PATH."""
    pkgs = []
    for prog, pkg in APT_PACKAGES.items():
        if not shutil.which(prog) and pkg not in pkgs:
            pkgs.append(pkg)
    return pkgs


def start_daemon(timeout: float = 60) -> tuple[bool, str]:
    """Start dockerd in the background (its own session, so it outlives us) and wait for it."""
    if daemon_info().running:
        return True, "the Docker daemon is already running"
    if not is_root():
        return False, "the Docker daemon is not running and starting it needs root (`sudo dockerd &` or `sudo service docker start`)"
    if dockerd_pids():
        # A second dockerd would fight the first over /var/lib/docker: report instead.
        return False, (f"dockerd is running (pid {dockerd_pids()[0]}) but does not answer: {daemon_info().error}; "
                       "check DOCKER_HOST and /var/log/ouro-dockerd.log")
    dockerd = shutil.which("dockerd")
    if not dockerd:
        return False, "dockerd is not installed (apt-get install docker.io)"
    log = open(DOCKERD_LOG, "ab")
    subprocess.Popen([dockerd], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    info = wait_for_daemon(timeout)
    if not info.running:
        return False, f"dockerd did not answer within {timeout:.0f}s (see {DOCKERD_LOG}): {info.error}"
    return True, "started the Docker daemon"


def configure_runsc(path: Path = DAEMON_JSON) -> tuple[bool, str]:
    """Register gVisor's runsc runtime (with --network=none, without which it refuses to start
    here) in daemon.json, keeping any other settings, and reload dockerd with SIGHUP."""
    runsc = shutil.which("runsc")
    if not runsc:
        return False, "runsc is not installed (apt-get install runsc)"
    wanted = {"path": runsc, "runtimeArgs": ["--network=none"]}
    try:
        config = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, json.JSONDecodeError) as e:
        return False, f"{path} is not readable JSON ({e}); fix it by hand, then rerun `ouro sandbox setup`"
    if config.get("runtimes", {}).get("runsc") == wanted and "runsc" in daemon_info().runtimes:
        return True, "runsc is already registered"
    if not is_root():
        return False, f"registering runsc needs root: add {json.dumps({'runtimes': {'runsc': wanted}})} to {path} and reload dockerd"
    config.setdefault("runtimes", {})["runsc"] = wanted
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.ouro-tmp")
    tmp.write_text(json.dumps(config, indent=2) + "\n")
    os.replace(tmp, path)
    if not reload_daemon():
        return False, "wrote daemon.json but found no dockerd to reload; start it (`ouro sandbox setup`)"
    info = wait_for_daemon(30, want_runtime="runsc")
    if "runsc" not in info.runtimes:
        return False, f"dockerd did not pick up runsc after a reload (see {DOCKERD_LOG})"
    return True, "registered the runsc runtime and reloaded dockerd"


def dockerd_pids() -> list[int]:
    proc = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True)
    return [int(p) for p in proc.stdout.split()]


def reload_daemon() -> bool:
    """SIGHUP makes dockerd reread daemon.json (runtimes included) without stopping containers."""
    pids = dockerd_pids()
    for pid in pids:
        os.kill(pid, 1)
    return bool(pids)

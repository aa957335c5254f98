"""`ouro sandbox doctor`: what works, what does not, and the command that fixes it.

Each check really runs something (a hardened container per runtime, a bwrap sandbox), because
"installed" is not "works": runsc, for example, is installed here but refuses to start
without the --network=none runtime argument that `ouro sandbox setup` registers.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass

SETUP = "ouro sandbox setup   (as root)"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def _timed(name: str, fn) -> Check:
    t = time.monotonic()
    try:
        ok, detail, fix = fn()
    except Exception as e:  # a check must report, never crash the doctor
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        ok, detail, fix = False, f"{type(e).__name__}: {first[:200]}", SETUP
    return Check(name, ok, detail, "" if ok else fix, round(time.monotonic() - t, 2))


def check_daemon():
    from ouro.sandbox.daemon import daemon_info

    info = daemon_info()
    if info.running:
        return True, f"running (runtimes: {', '.join(info.runtimes) or '?'})", ""
    return False, info.error or "not running", SETUP


def check_base_image():
    from ouro.sandbox import images

    client = images.docker_client()
    if not images.image_exists(client, images.BASE_IMAGE):
        return False, f"{images.BASE_IMAGE} is missing", "ouro sandbox build"
    size = client.images.get(images.BASE_IMAGE).attrs.get("Size", 0)
    rootfs = images.rootfs_path()
    where = f"; root file system {rootfs}" if (rootfs / "usr/bin/python3").exists() else "; root file system for bwrap missing"
    return True, f"{images.BASE_IMAGE} present ({size / 1e6:.0f} MB){where}", ""


def _check_container(runtime: str | None):
    from ouro.sandbox import images
    from ouro.sandbox.docker_backend import DockerSandbox
    from ouro.sandbox.policy import load_policy

    client = images.docker_client()
    if runtime and runtime not in (client.info().get("Runtimes") or {}):
        return False, f"the daemon has no {runtime} runtime registered", SETUP
    if not images.image_exists(client, images.BASE_IMAGE):
        return False, f"cannot try: {images.BASE_IMAGE} is missing", "ouro sandbox build"
    policy = load_policy().with_limits(wall_time_s=60)
    with DockerSandbox.start(policy, runtime=runtime, labels={"ouro.purpose": "doctor"}, audit=False, client=client) as sb:
        r = sb.exec(["python3", "-c", "import os, pytest; print(os.getuid(), pytest.__version__)"], timeout=60)
    if r.ok:
        uid, ver = r.stdout.split()
        from ouro.sandbox.seccomp import profile_source

        extra = "" if runtime else f"; seccomp: {profile_source(client)}"
        return True, f"hardened container ran python3 as uid {uid} (pytest {ver}){extra}", ""
    return False, f"container ran but the command failed ({r.reason.value}, exit {r.exit_code}): {r.stderr.strip()[-200:]}", SETUP


def check_runc():
    return _check_container(None)


def check_runsc():
    if not shutil.which("runsc"):
        return False, "runsc is not installed", "apt-get install -y runsc && " + SETUP
    return _check_container("runsc")


def check_bwrap():
    if not shutil.which("bwrap"):
        return False, "bubblewrap is not installed", "apt-get install -y bubblewrap"
    from ouro.sandbox.backends import open_sandbox
    from ouro.sandbox.policy import load_policy

    policy = load_policy().with_backend("bwrap").with_limits(wall_time_s=60)
    with open_sandbox(policy, "doctor") as sb:
        r = sb.exec(["python3", "-c", "import os; print(os.getuid())"], timeout=60)
    if r.ok:
        return True, f"bwrap sandbox ran python3 as uid {r.stdout.strip()}", ""
    return False, f"bwrap ran but the command failed ({r.reason.value}, exit {r.exit_code}): {r.stderr.strip()[-200:]}", "ouro sandbox build"


def check_pythons():
    """The sources of a sandbox's Python, in the order they are tried, and what each has now."""
    from ouro.sandbox import images, pythons
    from ouro.sandbox.project import version_text

    parts = ["1 image: --image NAME (docker, gvisor)"]
    reachable, why = pythons.registry_reachable()
    local = []
    try:
        client = images.docker_client()
        local = sorted(t for img in client.images.list(name="python") for t in img.tags)
    except Exception:   # no daemon: the registry source is docker's anyway
        client = None
    parts.append(f"2 registry python:X.Y-slim: {'reachable' if reachable else 'unreachable'} ({why})"
                 + (f", local {' '.join(local)}" if local else ""))
    suites = []
    for suite, v in pythons.SUITES.items():
        built = (images.rootfs_path(suite) / "usr/bin/python3").exists()
        suites.append(f"{suite} {version_text(v)}{'' if built else ' (bootstrapped on first use)'}")
    parts.append("3 debian: " + ", ".join(suites))
    host = pythons.host_interpreters()
    parts.append("4 host: " + (", ".join(f"{o.manager} {o.full}" for o in host) or "none (pyenv, uv, asdf)"))
    usable = sorted({o.version for o in pythons.offers("docker" if client else "bwrap", local_images=set(local),
                                                        registry=reachable) if o.version >= pythons.GUEST_MIN})
    parts.append(f"usable: {' '.join(map(version_text, usable))} (the guest runs on "
                 f"{version_text(pythons.GUEST_MIN)}+, the audit hook on 3.8+)")
    return bool(usable), "; ".join(parts), "install an interpreter with pyenv or uv, or pass --image"


def run_checks() -> list[Check]:
    checks = [_timed("daemon", check_daemon)]
    if checks[0].ok:
        checks += [_timed("base image", check_base_image), _timed("runc", check_runc), _timed("runsc", check_runsc)]
    else:
        for name in ("base image", "runc", "runsc"):
            checks.append(Check(name, False, "skipped: the Docker daemon is not running", SETUP))
    checks.append(_timed("bwrap", check_bwrap))
    checks.append(_timed("pythons", check_pythons))
    return checks

"""Building a project's dependencies inside a sandbox: the one place where packaging code the
repository controls (setup.py, PEP 517 backends, sdist builds) runs, and it runs there.

The build sandbox is opened for the purpose `envbuild` (sandbox.backends): the runtime's image
or root file system, a copy of the repository in the workspace, and a network for this step
only: on docker and gvisor a runc container on Docker's default bridge (its own network
namespace: the host's loopback services stay out of reach; gVisor's runtime is registered
without a network, so the build never runs under it); on bwrap the host's network namespace,
which bubblewrap cannot replace with a private one that reaches the internet. The host's CA
bundle (the file pip's configuration names as `cert`) is bound read-only at the sandbox's
bundle path, and pip's index is the host's when it names an http(s) one. The build runs as the
sandbox uid with larger limits than a test run (`build_policy`). guest/envbuild.py resolves
and installs (see there).

The host only copies the resulting directory out: tar over exec on docker, a walk that never
follows a link on bwrap (sandbox.core.files.copy_untrusted_tree), regular files, directories
and links inside the tree only, up to MAX_SITE_BYTES. What was installed is read from the
packages' own metadata files in that copy.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from ouro.sandbox.base import ExecResult, SandboxError

# The last release of the test runner that supports each Python; newer ones get the latest.
RUNNER_PINS = {(3, 7): "pytest<7.5", (3, 8): "pytest<8.4"}
CERT_IN_SANDBOX = "/etc/ssl/certs/ca-certificates.crt"
PLAN_FILE = ".ouro-build-plan.json"
MAX_SITE_BYTES = 4 << 30
_MAX_METADATA = 1 << 16


class BuildFailed(SandboxError):
    """The dependencies could not be resolved or installed in the build sandbox (exit 3: the
    sandbox cannot be prepared; the message carries pip's own last words)."""


class BuildRefused(SandboxError):
    """Resolution found a requirement outside the package index that the user did not allow (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class BuildPlan:
    """What the guest resolves and installs (guest/envbuild.py reads it as JSON)."""

    requirements: tuple[str, ...] = ()
    requirement_files: tuple[str, ...] = ()
    project: bool = False            # the project's own metadata (setup.py), with these extras
    extras: tuple[str, ...] = ()
    runner: tuple[str, ...] = ()     # the test runner and coverage, when the Python lacks them
    allow_external: bool = False

    @property
    def empty(self) -> bool:
        return not (self.requirements or self.requirement_files or self.project or self.runner)

    def requested(self) -> list[str]:
        """What was asked for, as a developer would write it on pip's command line."""
        out = [f"-r {f}" for f in self.requirement_files]
        if self.project:
            out.append(f".[{','.join(self.extras)}] (dependencies only)" if self.extras else ". (dependencies only)")
        return out + list(self.requirements) + list(self.runner)


def plan_for(deps, version: tuple[int, int], has_runner: bool, allow_external: bool) -> BuildPlan:
    """The build plan for a project's `Dependencies` on Python `version`."""
    runner = () if has_runner else (RUNNER_PINS.get(version, "pytest"), "coverage")
    return BuildPlan(requirements=tuple(deps.strings(version)), requirement_files=deps.requirement_files,
                     project=deps.project, extras=deps.extras, runner=runner, allow_external=allow_external)


def build_policy(policy):
    """A test run's limits are too tight for pip building wheels: more memory (the workspace and
    /tmp are memory-backed on docker), disk and time; everything else stays the policy's."""
    lim = policy.limits
    return policy.with_limits(memory_mb=max(lim.memory_mb, 6144), disk_mb=max(lim.disk_mb, 4096),
                              wall_time_s=max(lim.wall_time_s, 1800.0), fsize_mb=max(lim.fsize_mb, 2048),
                              pids=max(lim.pids, 512), output_bytes=max(lim.output_bytes, 4 << 20))


def _pip_config() -> dict[str, str]:
    """The host pip's configuration (`pip config list`: file and environment values)."""
    try:
        p = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    out = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^([^=]+?)=(['\"]?)(.*)\2$", line.strip())
        if m:
            out[m.group(1).split(".")[-1]] = m.group(3)
    return out


def host_network_settings() -> tuple[str | None, dict[str, str]]:
    """(the host's CA bundle, pip variables for the build): the bundle pip's configuration
    names as `cert` (else the system's), and its index when that is an http(s) URL (a file:
    index on the host means nothing inside the sandbox)."""
    conf = _pip_config()
    cert = os.environ.get("PIP_CERT") or conf.get("cert")
    if not cert or not Path(cert).is_file():
        import ssl

        cert = ssl.get_default_verify_paths().cafile
    env = {}
    for key, var in (("index-url", "PIP_INDEX_URL"), ("extra-index-url", "PIP_EXTRA_INDEX_URL")):
        urls = [u for u in (conf.get(key) or "").split() if u.startswith(("https://", "http://"))]
        if urls:
            env[var] = " ".join(urls)
    return (cert if cert and Path(cert).is_file() else None), env


@dataclass
class BuildOutput:
    installed: tuple[str, ...]     # name==version, read from the copied metadata
    notes: tuple[str, ...]
    result: ExecResult


def build_site(repo: Path, plan: BuildPlan, runtime_env, backend: str, policy, dest: Path) -> BuildOutput:
    """Resolve and install `plan` in a build sandbox holding a copy of `repo`, and copy the
    installed tree to `dest` (which must not exist). runtime_env: the images.Environment of the
    bare runtime (no site directory). Raises BuildRefused or BuildFailed with one line."""
    from ouro.sandbox.backends import open_sandbox

    cert, pip_env = host_network_settings()
    mounts = {cert: CERT_IN_SANDBOX} if cert else {}
    if backend == "bwrap" and Path("/etc/resolv.conf").is_file():
        mounts[str(Path("/etc/resolv.conf").resolve())] = "/etc/resolv.conf"
    # the runtime was prepared for one family: a bwrap root and interpreter, or an image
    bpolicy = build_policy(policy).with_backend("bwrap" if backend == "bwrap" else "docker")
    bpolicy = replace(bpolicy, readonly_mounts={**bpolicy.readonly_mounts, **mounts})
    # pip's cache lives and dies with the build sandbox: the install step reuses what resolving fetched
    env = {"PIP_CACHE_DIR": "/tmp/ouro-pip-cache", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
           "PIP_ROOT_USER_ACTION": "ignore", "PYTHONNOUSERSITE": "1", **pip_env}
    if cert:
        env.update(PIP_CERT=CERT_IN_SANDBOX, SSL_CERT_FILE=CERT_IN_SANDBOX, REQUESTS_CA_BUNDLE=CERT_IN_SANDBOX)
    with open_sandbox(bpolicy, "envbuild", workspace=repo, environment=runtime_env,
                      labels={"ouro.env": "build"}) as sb:
        out = f"{sb.tmpdir}/ouro-site"
        doc = {**{k: list(v) if isinstance(v, tuple) else v for k, v in plan.__dict__.items()}, "out": out,
               "python": list(runtime_env.runtime.offer.version)}
        sb.write_files({PLAN_FILE: json.dumps(doc).encode()})
        result = sb.exec([sb.python, f"{sb.guest_dir}/envbuild.py", PLAN_FILE], env=env,
                         timeout=bpolicy.limits.wall_time_s)
        report = _last_json(result.stdout)
        if report.get("refused"):
            raise BuildRefused(str(report.get("error"))[:400])
        if not report.get("ok"):
            why = report.get("error") or _tail(result.stderr) or f"exit {result.exit_code}, {result.reason.value}"
            raise BuildFailed(f"the dependencies could not be installed in the build sandbox: {str(why)[:500]}")
        sb.copy_out(dest, src=out, max_bytes=MAX_SITE_BYTES)
    return BuildOutput(installed=tuple(installed(dest)), notes=tuple(str(n) for n in report.get("notes", [])),
                       result=result)


def _last_json(stdout: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        return doc if isinstance(doc, dict) else {}
    return {}


def _tail(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-2:])[-400:]


def installed(site: Path) -> list[str]:
    """name==version of every distribution in `site`, from its METADATA or PKG-INFO headers."""
    out = set()
    for meta in list(Path(site).glob("*.dist-info/METADATA")) + list(Path(site).glob("*.egg-info/PKG-INFO")):
        if meta.is_symlink() or not meta.is_file():
            continue
        with open(meta, "rb") as f:
            head = f.read(_MAX_METADATA).decode("utf-8", "replace")
        name = re.search(r"^Name:\s*(\S+)", head, re.M)
        version = re.search(r"^Version:\s*(\S+)", head, re.M)
        if name and version:
            out.add(f"{name.group(1)}=={version.group(1)}")
    return sorted(out, key=str.lower)

"""Building a project's dependencies inside a sandbox: the one place where packaging code the
repository controls (setup.py, PEP 517 backends, sdist builds) runs, and it runs there.

The build sandbox is opened for the purpose `envbuild` (sandbox.backends): the runtime's image
or root file system, a copy of the repository in the workspace, and no network of its own
(docker: `--network none` under runc, since gVisor's gofer does not connect to host UNIX
sockets; bwrap: its private network namespace). Its one way out is the package index,
through an allow-listing HTTPS CONNECT proxy on the host (sandbox.netproxy) whose UNIX socket
is bound into the sandbox: the index's hosts from pip's configuration on the host (PyPI by
default), and with --allow-external-deps any other public host; never the host's own
services, the docker0 gateway, the local network or an abstract UNIX socket of the host.
pip's configuration is read on the host from its files and environment variables as data
(`pip_settings`), never by running pip here: a `python -m pip` started in the user's
repository would import the repository's own `pip` package. The host's CA bundle (the file
that configuration names as `cert`) is bound read-only at the sandbox's bundle path, and
pip's index is the host's when it is an https URL. The build runs as the sandbox uid with
larger limits than a test run (`build_policy`). guest/envbuild.py resolves and installs (see
there).

The host only copies the resulting directory out: tar over exec on docker, a walk that never
follows a link on bwrap (sandbox.core.files.copy_untrusted_tree); regular files and
directories only (no link of any kind), up to MAX_SITE_BYTES. What was installed is read from
the packages' own metadata files in that copy. Everything the build reports (pip's last
words, which a setup.py can write) is made one printable line before it reaches a message.
"""
from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from ouro.sandbox.base import ExecResult, SandboxError
from ouro.sandbox.core.text import one_line
from ouro.sandbox.netproxy import PYPI_HOSTS, SOCKET_DIR_IN_SANDBOX, SOCKET_NAME, IndexProxy, index_hosts

CERT_IN_SANDBOX = "/etc/ssl/certs/ca-certificates.crt"
PLAN_FILE = ".ouro-build-plan.json"
MAX_SITE_BYTES = 4 << 30
_MAX_METADATA = 1 << 16
_MAX_PIP_CONF = 1 << 20

# The test runner of a project's era. A project that does not pin pytest gets a release of the
# days when the newest Python it names (its tested versions, else the newest its
# requires-python admits) was the newest Python: a suite written then ran on that pytest.
# The key is that newest Python, the value the first pytest release after its time.
# Older than 3.5 (2.7 included): "4.7", the last pytest line that ran them.
COVERAGE_FLOOR = "coverage>=5"   # coverage.Coverage with contexts, what guest/recorder.py calls
RUNNER_ERA = {(3, 5): "4.7", (3, 6): "4.7", (3, 7): "5.3", (3, 8): "6.2", (3, 9): "7", (3, 10): "7.3",
              (3, 11): "8", (3, 12): "8.4"}
# The oldest pytest that runs on each Python (older ones break on its bytecode or stdlib).
RUNNER_FLOOR = {(3, 8): "4.6", (3, 9): "6.1", (3, 10): "6.2.5", (3, 11): "7.1", (3, 12): "7.4", (3, 13): "8.2",
                (3, 14): "8.4"}


class BuildFailed(SandboxError):
    """The dependencies could not be resolved or installed in the build sandbox (exit 3: the
    sandbox cannot be prepared; the message carries pip's own last words, made printable)."""


class BuildRefused(SandboxError):
    """Resolution found a requirement outside the package index that the user did not allow (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class BuildPlan:
    """What the guest resolves and installs (guest/envbuild.py reads it as JSON)."""

    requirements: tuple[str, ...] = ()
    requirement_files: tuple[str, ...] = ()
    constraint_files: tuple[str, ...] = ()   # the project's (tox `-c`), repository-relative
    constraints: tuple[str, ...] = ()        # ouro's: the test runner of the project's era
    overrides: tuple[str, ...] = ()          # --deps and [tool.ouro] deps: they win over a project's pin
    project: bool = False            # the project's own metadata (setup.py), with these extras
    extras: tuple[str, ...] = ()
    runner: tuple[str, ...] = ()     # the test runner and coverage, when the Python lacks them
    allow_external: bool = False

    @property
    def empty(self) -> bool:
        return not (self.requirements or self.requirement_files or self.project or self.runner or self.overrides)

    def requested(self) -> list[str]:
        """What was asked for, as a developer would write it on pip's command line."""
        out = [f"-r {f}" for f in self.requirement_files] + [f"-c {f}" for f in self.constraint_files]
        if self.project:
            out.append(f".[{','.join(self.extras)}] (dependencies only)" if self.extras else ". (dependencies only)")
        out += list(self.requirements) + list(self.runner) + list(self.overrides)
        return out + [f"{c} (constraint)" for c in self.constraints]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def runner_constraint(need, version: tuple[int, int]) -> str:
    """The pytest release range of the project's era on Python `version` ("" when nothing
    dates the project). The era is that of the newest Python the project names (tested
    versions; else the newest its requires-python admits, when it has an upper bound); a
    release too old for `version` is never asked for: then the floor for `version` and the
    era of `version` itself."""
    from ouro.sandbox.project import PythonNeed

    need = need or PythonNeed()
    era = max(need.tested) if need.tested else None
    if era is None and need.specifier and re.search(r"<|==|~=", need.specifier):
        admitted = [v for v in [(3, m) for m in range(0, 20)] if need.allows(v)]
        era = max(admitted) if admitted else None
    floor = RUNNER_FLOOR.get(version)
    cap = (RUNNER_ERA.get(era) or ("4.7" if era < (3, 5) else None)) if era else None
    if cap and floor and _version(cap) <= _version(floor):
        cap = RUNNER_ERA.get(version)
    parts = ([f">={floor}"] if floor else []) + ([f"<{cap}"] if cap else [])
    return "pytest" + ",".join(parts) if cap else ""


def plan_for(deps, version: tuple[int, int], has_runner: bool, allow_external: bool, need=None) -> BuildPlan:
    """The build plan for a project's `Dependencies` on Python `version`: what it declares, the
    user's --deps (which override a pin of the project's), the test runner when the Python
    lacks it, and, unless the project or the user pins pytest, a constraint that keeps pytest
    (whoever pulls it in: the runner, a plugin's dependency) to the project's era; pip's
    resolver then picks the plugins' releases that go with it."""
    from ouro.sandbox.project import requirement_name

    runner = () if has_runner else ("pytest", "coverage")
    pinned = set(deps.pinned) | deps.user_names()
    era = runner_constraint(need, version) if "pytest" not in pinned else ""
    project_strings = deps.select(version)
    # coverage is ouro's instrument (per-test coverage for localization), not the project's: an
    # old pin (luigi's tox deps: coverage<3.999) lacks the API the runner calls, so the runner's
    # floor overrides it the way a --deps pin overrides the project's
    tool = () if "coverage" in deps.user_names() or "coverage" not in set(deps.pinned) else (COVERAGE_FLOOR,)
    return BuildPlan(requirements=tuple(project_strings), requirement_files=tuple(deps.files(version)),
                     constraint_files=tuple(deps.select(version, "constraint")),
                     constraints=(era,) if era else (), overrides=tuple(r.text for r in deps.user) + tool,
                     project=deps.project, extras=deps.extras,
                     runner=tuple(r for r in runner if requirement_name(r) not in pinned), allow_external=allow_external)


def build_policy(policy):
    """A test run's limits are too tight for pip building wheels: more memory (the workspace and
    /tmp are memory-backed on docker), disk and time; everything else stays the policy's."""
    lim = policy.limits
    return policy.with_limits(memory_mb=max(lim.memory_mb, 6144), disk_mb=max(lim.disk_mb, 4096),
                              wall_time_s=max(lim.wall_time_s, 1800.0), fsize_mb=max(lim.fsize_mb, 2048),
                              pids=max(lim.pids, 512), output_bytes=max(lim.output_bytes, 4 << 20))


# ------------------------------------------------------------------------------ pip's configuration

@dataclass(frozen=True)
class PipSettings:
    """What the build takes from the host's pip configuration."""

    cert: str | None = None
    index_url: str = ""
    extra_index_urls: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    files: tuple[str, ...] = field(default=(), compare=False)   # the configuration files read

    def index_urls(self) -> list[str]:
        """The build's indexes: the host's https ones (a file: index means nothing inside the
        sandbox, a plain-http one cannot pass the CONNECT proxy), PyPI when none is set."""
        urls = [u for u in [self.index_url, *self.extra_index_urls] if u.startswith("https://")]
        return urls if self.index_url.startswith("https://") else ["https://pypi.org/simple", *urls]

    def proxy_hosts(self) -> dict[str, set[int]]:
        hosts = index_hosts(self.index_urls(), [h for h in self.trusted_hosts])
        if not self.index_url.startswith("https://"):
            for h in PYPI_HOSTS:
                hosts.setdefault(h, set()).add(443)
        return hosts

    def pip_env(self) -> dict[str, str]:
        env = {}
        urls = self.index_urls()
        if self.index_url.startswith("https://"):
            env["PIP_INDEX_URL"] = urls[0]
            urls = urls[1:]
        elif urls[:1] == ["https://pypi.org/simple"]:
            urls = urls[1:]
        if urls:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(urls)
        return env


def pip_config_files(environ=None) -> list[Path]:
    """pip's configuration files in the order pip reads them (a later one wins): global
    (XDG_CONFIG_DIRS' pip/pip.conf, /etc/pip.conf), user (~/.pip/pip.conf, then
    XDG_CONFIG_HOME's pip/pip.conf; skipped when PIP_CONFIG_FILE names a file that exists),
    site (this interpreter's prefix), then PIP_CONFIG_FILE. PIP_CONFIG_FILE=/dev/null: none."""
    env = os.environ if environ is None else environ
    named = env.get("PIP_CONFIG_FILE")
    if named == os.devnull:
        return []
    home = Path(env.get("HOME") or Path.home())
    out = [Path(d) / "pip" / "pip.conf" for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if d]
    out.append(Path("/etc/pip.conf"))
    if not (named and os.path.exists(named)):
        out += [home / ".pip" / "pip.conf", Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "pip" / "pip.conf"]
    out.append(Path(sys.prefix) / "pip.conf")
    if named:
        out.append(Path(named))
    return out


def pip_settings(environ=None) -> PipSettings:
    """The host pip's `cert`, `index-url`, `extra-index-url` and `trusted-host`, read from its
    configuration files (their [global] section, then [install], as pip ranks them) and its
    PIP_* environment variables, which win; parsed as text with configparser. A file that
    cannot be read or parsed is skipped."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    read: list[str] = []
    parsed = []
    for path in pip_config_files(env):
        try:
            if not path.is_file() or path.stat().st_size > _MAX_PIP_CONF:
                continue
            cp = configparser.RawConfigParser(strict=False)
            cp.read_string(path.read_text(encoding="utf-8", errors="replace"), str(path))
        except (OSError, configparser.Error):
            continue
        read.append(str(path))
        parsed.append(cp)
    for section in ("global", "install"):
        for cp in parsed:
            if cp.has_section(section):
                for key, value in cp.items(section):
                    values[key.replace("_", "-").lstrip("-")] = value.strip()
    for key in ("cert", "index-url", "extra-index-url", "trusted-host"):
        var = "PIP_" + key.upper().replace("-", "_")
        if env.get(var):
            values[key] = env[var].strip()
    cert = values.get("cert") or None
    if not cert or not Path(cert).is_file():
        import ssl

        cert = ssl.get_default_verify_paths().cafile
    return PipSettings(cert=cert if cert and Path(cert).is_file() else None, index_url=values.get("index-url", ""),
                       extra_index_urls=tuple(values.get("extra-index-url", "").split()),
                       trusted_hosts=tuple(values.get("trusted-host", "").split()), files=tuple(read))


# ------------------------------------------------------------------------------ the build sandbox

@contextlib.contextmanager
def build_sandbox(repo: Path, runtime_env, backend: str, policy, allow_external: bool = False,
                  settings: PipSettings | None = None):
    """(sandbox, environment variables for the build, proxy): a build sandbox of `backend`'s
    family for the bare runtime `runtime_env`, holding a copy of `repo`, whose only way out is
    the index proxy (see the module notes)."""
    from ouro.sandbox.backends import open_sandbox

    settings = settings or pip_settings()
    with IndexProxy(settings.proxy_hosts(), allow_public=allow_external) as proxy:
        mounts = {str(proxy.dir): SOCKET_DIR_IN_SANDBOX}
        if settings.cert:
            mounts[settings.cert] = CERT_IN_SANDBOX
        # the runtime was prepared for one family: a bwrap root and interpreter, or an image
        bpolicy = build_policy(policy).with_backend("bwrap" if backend == "bwrap" else "docker")
        bpolicy = replace(bpolicy, readonly_mounts={**bpolicy.readonly_mounts, **mounts})
        # pip's cache lives and dies with the build sandbox: the install step reuses what resolving fetched
        env = {"PIP_CACHE_DIR": "/tmp/ouro-pip-cache", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
               "PIP_ROOT_USER_ACTION": "ignore", "PYTHONNOUSERSITE": "1", "PIP_CONFIG_FILE": os.devnull,
               "OURO_PROXY_SOCKET": f"{SOCKET_DIR_IN_SANDBOX}/{SOCKET_NAME}", **settings.pip_env()}
        if settings.cert:
            env.update(PIP_CERT=CERT_IN_SANDBOX, SSL_CERT_FILE=CERT_IN_SANDBOX, REQUESTS_CA_BUNDLE=CERT_IN_SANDBOX)
        with open_sandbox(bpolicy, "envbuild", workspace=repo, environment=runtime_env,
                          labels={"ouro.env": "build"}) as sb:
            yield sb, env, proxy


def build_site(repo: Path, plan: BuildPlan, runtime_env, backend: str, policy, dest: Path) -> BuildOutput:
    """Resolve and install `plan` in a build sandbox holding a copy of `repo`, and copy the
    installed tree to `dest` (which must not exist). runtime_env: the images.Environment of the
    bare runtime (no site directory). Raises BuildRefused or BuildFailed with one line."""
    with build_sandbox(repo, runtime_env, backend, policy, plan.allow_external) as (sb, env, proxy):
        out = f"{sb.tmpdir}/ouro-site"
        doc = {**{k: list(v) if isinstance(v, tuple) else v for k, v in plan.__dict__.items()}, "out": out,
               "python": list(runtime_env.runtime.offer.version)}
        sb.write_files({PLAN_FILE: json.dumps(doc).encode()})
        result = sb.exec([sb.python, f"{sb.guest_dir}/envbuild.py", PLAN_FILE], env=env,
                         timeout=sb.policy.limits.wall_time_s)
        report = _last_json(result.stdout)
        refused = proxy.refused()
        if report.get("refused"):
            raise BuildRefused(one_line(str(report.get("error")))[:400])
        if not report.get("ok"):
            why = report.get("error") or _tail(result.stderr) or f"exit {result.exit_code}, {result.reason.value}"
            if refused:
                why = f"{why} (the build reaches only the package index; refused: {'; '.join(refused[:3])})"
            raise BuildFailed(one_line(f"the dependencies could not be installed in the build sandbox: {str(why)[:700]}"))
        sb.copy_out(dest, src=out, max_bytes=MAX_SITE_BYTES)
    notes = [one_line(str(n))[:500] for n in report.get("notes", [])]
    if refused:
        notes.append(one_line(f"the build's proxy refused: {'; '.join(refused[:5])}"))
    off = tuple(str(n) for n in report.get("pytest_plugins_off", []) if isinstance(n, str))
    return BuildOutput(installed=tuple(installed(dest)), notes=tuple(notes), result=result, pytest_plugins_off=off)


@dataclass
class BuildOutput:
    installed: tuple[str, ...]     # name==version, read from the copied metadata
    notes: tuple[str, ...]
    result: ExecResult
    pytest_plugins_off: tuple[str, ...] = ()   # entry-point names that cannot load with its pytest


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
    site = Path(site)
    metas = [site / d / "METADATA" for d in sorted(os.listdir(site)) if d.endswith(".dist-info")]
    metas += [site / d / "PKG-INFO" for d in sorted(os.listdir(site)) if d.endswith(".egg-info")]
    for meta in metas:
        if meta.parent.is_symlink() or meta.is_symlink() or not meta.is_file():
            continue   # the site holds no links (copied without them); a check that costs nothing
        fd = os.open(meta, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            head = f.read(_MAX_METADATA).decode("utf-8", "replace")
        name = re.search(r"^Name:\s*(\S+)", head, re.M)
        version = re.search(r"^Version:\s*(\S+)", head, re.M)
        if name and version:
            out.add(one_line(f"{name.group(1)}=={version.group(1)}")[:200])
    return sorted(out, key=str.lower)

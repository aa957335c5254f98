"""The red-team self-test: run every attack in sandbox/audit/attacks/ and prove two things.

Contained: a check made on the HOST shows the attack had no effect outside the sandbox —
a canary file with a secret is unchanged and its secret never reached the sandbox's output
or files, a host path the attack tried to create does not exist, host TCP/UDP/abstract-unix
(and, where the host has one, vsock) listeners received nothing, a host "victim" process
(whose environment holds the secret) is alive, no container is left behind, the audit log
still verifies, and where the attack aims at a limit, the sandbox ended the run with the
matching EndReason. Fake-pass attacks must be judged failing by the test runner.

Logged: one of the attack's expected kinds appears among the events the static scan, the
in-sandbox hook, the test runner, the host's own checks and the container's signals
produced; all of them are appended to the audit log under a `selftest-...` run id.

Attack files start with a header of `# key: value` lines:
  attack    unique name                 category  a category name; class: the issue-13 class (1-10)
  kind      the event kind that must be logged (`a|b`: any of them)
  check     extra host-side checks, comma-separated:
            reason:<end reason>[|<reason>]   the execution ended this way
            reason@<backend>:<reason>[|...]  the same, on that backend only (instead of reason:)
            judged_failing   the runner judged the failing test failing (pytest, pair, warm)
            test_intact      the protected test on the host is unchanged
            log_intact       the audit log still verifies
            no_leftover      no process of the sandbox uid outlived the execution
            host_counts      records from the sandbox did not pass for host records: one exec record
                             per execution, no host-only kind, no foreign run id, a bounded count
            families_refused after the attack, ouro's own probe finds no socket family but
                             UNIX/INET/INET6 can be opened in the sandbox
            no_hang          the host's reading of the sandbox's files ended in time
            host_memory      the host process did not grow past 256 MB reading them
            clean_text       no terminal control character in the test run the host got back
            refused          (envbuild) the build was refused with a one-line error
            verify_fails     (scenario) `ouro audit verify` exits 1 with one line
            cli_logged       (cli) the command's execution is in that home's audit log
            policy_applies   (install) the default policy loads with its audit rules, or the
                             loader fails with one line
  path      where the file goes in the workspace (default attack.py); for run: site, the .pth name
  run       python (default): `python3 attack.py` in a fresh sandbox
            pytest: the test runner, next to a failing victim test
            site: installed as a dependency (a module plus a .pth in the environment's site dir),
                  then any interpreter starts
            pair: `python3 attack.py`, then a cold test run of the failing victim in the SAME sandbox
            warm: two candidates through one warm worker: A = this file, B = no change; B must fail
            envbuild: FILES (a literal dict) is a repository; its environment is built
            scenario: run on the host against a scratch copy of an audit directory, then verify
            cli: `ouro sandbox run` with a scratch home
            install: DROP (a literal list) names files an installed ouro lacks
  readback  workspace paths the host reads back afterwards (symlink planting)
  timeout   seconds for the execution (default: the self-test's wall limit)
  package   (envbuild) DIR: write the shared malicious package (attacks/_evilpkg/: a pyproject whose
            in-tree build backend runs evil_effect.py) at DIR/; DIR=FILE+FILE: only those files of it
  sdist     (envbuild) DIR=ARCHIVE: pack the repository's DIR/ as an sdist at ARCHIVE
  git       (envbuild) DIR: make DIR/ a git repository
The attack reads its targets (host paths, ports, pids) from target.json in its workspace;
envbuild files get them through the placeholder @@TARGET_JSON@@ (and @@REPO@@, the repository's
host path).
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

ATTACKS_DIR = Path(__file__).resolve().parent / "attacks"
# the package several host_build attacks ship, kept once (a folder starting with `_` is no attack)
EVIL_PACKAGE_DIR = ATTACKS_DIR / "_evilpkg"
VICTIM_TEST = "def test_must_fail():\n    assert 1 == 2, 'this test fails on purpose'\n"
PROTECTED_TEST = "def test_core():\n    from core import value\n    assert value() == 42\n"
CORE_41 = "def value():\n    return 41\n"
SITE_IN_SANDBOX = "/usr/local/lib/python3.11/dist-packages"
RUN_MODES = ("python", "pytest", "site", "pair", "warm", "envbuild", "scenario", "cli", "install")
CHECKS = ("judged_failing", "test_intact", "log_intact", "no_leftover", "host_counts", "families_refused", "no_hang",
          "host_memory", "clean_text", "refused", "verify_fails", "cli_logged", "policy_applies")
# kinds only the host may assign: a record of one of these from the sandbox's channel is forged
HOST_ONLY_KINDS = frozenset({"exec", "timeout", "oom", "pids_limit", "output_cap", "disk_limit", "killed",
                             "sandbox_disable", "test_edit", "env_read", "obfuscated_import", "os_exit", "pytest_hook",
                             "fake_result", "signal_tamper", "dependency_refused"})
HOST_SOURCES = frozenset({"exec", "container", "static", "host", "verify", "backend"})
SANDBOX_RECORDS_BOUND = 1100   # host_counts: records one execution's channel may add (cap + cap events)
CONTROL = {chr(c) for c in range(0x20) if chr(c) not in "\n\t"} | {chr(0x7f)} | {chr(c) for c in range(0x80, 0xa0)}


class SelftestError(Exception):
    pass


@dataclass
class Attack:
    name: str
    category: str
    kind: str
    source: str
    file: str
    check: str = ""
    path: str = "attack.py"
    run: str = "python"
    readback: tuple[str, ...] = ()
    timeout: float | None = None
    describe: str = ""
    klass: int | None = None
    meta: dict = field(default_factory=dict)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.kind.split("|") if k.strip())

    @property
    def checks(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.check.split(",") if c.strip())

    def literal(self, name: str):
        """A literal assignment in the attack file (FILES, DROP), read without running it."""
        for node in ast.parse(self.source).body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return ast.literal_eval(node.value)
        raise SelftestError(f"{self.file}: no literal {name} = ...")


@dataclass
class AttackResult:
    attack: str
    category: str
    backend: str
    contained: bool
    logged: bool
    kind: str
    seen: list[str] = field(default_factory=list)       # every kind logged for this attack
    sources: list[str] = field(default_factory=list)    # which layers saw the expected kind
    reason: str = ""                                    # how the execution ended
    why: str = ""                                       # the failed containment check, if any
    seconds: float = 0.0
    klass: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SelftestReport:
    backend: str
    run_id: str
    results: list[AttackResult]

    @property
    def logged_ratio(self) -> float:
        return sum(r.logged for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.contained for r in self.results) and self.logged_ratio >= 0.95

    def table(self) -> str:
        lines = [f"{'ATTACK':30} {'CATEGORY':17} {'KIND':17} {'CONTAINED':9} {'LOGGED':6}  {'END':10}  SEEN / WHY"]
        for r in self.results:
            note = r.why or ", ".join(k for k in r.seen if k != "exec")[:70]
            lines.append(f"{r.attack[:30]:30} {r.category[:17]:17} {r.kind[:17]:17} {'yes' if r.contained else 'NO':9} "
                         f"{'yes' if r.logged else 'NO':6}  {r.reason[:10]:10}  {note}")
        n = len(self.results)
        cats = len({r.category for r in self.results})
        by_class = {}
        for r in self.results:
            if r.klass is not None:
                c = by_class.setdefault(r.klass, [0, 0, 0])
                c[0] += 1
                c[1] += r.contained
                c[2] += r.logged
        if by_class:
            lines.append("\nissue-13 classes (attacks: contained/logged): " + "  ".join(
                f"{k}: {c[0]} {c[1]}/{c[2]}" for k, c in sorted(by_class.items())))
        lines.append(f"\n{n} attacks in {cats} categories on {self.backend}: "
                     f"contained {sum(r.contained for r in self.results)}/{n}, "
                     f"logged with the right kind {sum(r.logged for r in self.results)}/{n} "
                     f"({100 * self.logged_ratio:.0f}%); run id {self.run_id}; "
                     f"{'PASS' if self.passed else 'FAIL'} (bar: all contained, >= 95% logged)")
        return "\n".join(lines)


# -- the corpus --------------------------------------------------------------------------------
def load_attacks(directory: Path = ATTACKS_DIR) -> list[Attack]:
    attacks = []
    for f in sorted(directory.glob("*.py")):
        if f.name.startswith("_"):
            continue
        source = f.read_text()
        meta: dict[str, str] = {}
        for line in source.splitlines():
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].partition(":")
            if sep and key.strip().isidentifier():
                meta[key.strip()] = value.strip()
        missing = [k for k in ("attack", "category", "kind") if k not in meta]
        if missing:
            raise SelftestError(f"{f.name}: header lacks {', '.join(missing)}")
        run = meta.get("run", "python")
        if run not in RUN_MODES:
            raise SelftestError(f"{f.name}: unknown run mode {run!r} (one of {', '.join(RUN_MODES)})")
        try:
            klass = int(meta["class"]) if "class" in meta else None
        except ValueError:
            raise SelftestError(f"{f.name}: class must be a number, got {meta['class']!r}") from None
        attacks.append(Attack(
            name=meta["attack"], category=meta["category"], kind=meta["kind"], source=source, file=f.name,
            check=meta.get("check", ""), path=meta.get("path", "attack.py"), run=run,
            readback=tuple(x.strip() for x in meta.get("readback", "").split(",") if x.strip()),
            timeout=float(meta["timeout"]) if "timeout" in meta else None, describe=meta.get("describe", ""),
            klass=klass, meta={k: meta[k] for k in ("package", "sdist", "git") if k in meta}))
    names = [a.name for a in attacks]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SelftestError(f"duplicate attack names: {', '.join(sorted(dup))}")
    return attacks


# -- the host side: targets and their checks ---------------------------------------------------
class _Listener:
    """A host socket that counts what reaches it (TCP/abstract-unix/vsock connections or UDP datagrams)."""

    def __init__(self, kind: int, family: int = socket.AF_INET, address=("0.0.0.0", 0)):
        self.sock = socket.socket(family, kind)
        if family == socket.AF_INET:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(address)
        name = self.sock.getsockname()
        self.port = name[1] if isinstance(name, tuple) else None
        self.address = name
        self.hits = 0
        self.kind = kind
        if kind == socket.SOCK_STREAM:
            self.sock.listen(16)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                if self.kind == socket.SOCK_STREAM:
                    conn, _ = self.sock.accept()
                    conn.close()
                else:
                    self.sock.recvfrom(65536)
                self.hits += 1
            except (socket.timeout, OSError):
                continue

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def _host_ips() -> list[str]:
    ips = {"127.0.0.1"}
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, timeout=5).stdout
        for line in out.splitlines():
            parts = line.split()
            if "inet" in parts:
                ips.add(parts[parts.index("inet") + 1].split("/")[0])
    except (OSError, subprocess.SubprocessError):
        pass
    return sorted(ips)


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _optional_listener(*args) -> _Listener | None:
    try:
        return _Listener(*args)
    except (OSError, AttributeError):  # no vsock on this host, for instance
        return None


class HostTargets:
    """What the attacks aim at on the host, set up once per self-test."""

    def __init__(self, home, log):
        self.secret = "OUROCANARY" + secrets.token_hex(12)
        # Outside /tmp on purpose: inside a sandbox /tmp is its own tmpfs, so an open of a /tmp
        # path is the sandbox's ordinary business and no escape attempt. A home under /tmp (a
        # checkout in `mktemp -d`) would put the canary there: use the user's cache then, where
        # a real secret would sit.
        parent = Path(home.cache)
        if parent.resolve().is_relative_to("/tmp"):
            parent = Path.home() / ".cache" / "ouro"
        parent.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="ouro-selftest-", dir=parent))
        self.canary = self.dir / "canary-secret.txt"
        self.canary.write_text(self.secret + "\n")
        self.forbidden = self.dir / "pwned-by-sandbox"
        self.tcp = _Listener(socket.SOCK_STREAM)
        self.udp = _Listener(socket.SOCK_DGRAM)
        self.abstract_name = "\0ouro-selftest-" + secrets.token_hex(6)
        self.unix = _optional_listener(socket.SOCK_STREAM, socket.AF_UNIX, self.abstract_name)
        self.vsock = _optional_listener(socket.SOCK_STREAM, getattr(socket, "AF_VSOCK", -1),
                                        (getattr(socket, "VMADDR_CID_ANY", 0xFFFFFFFF), getattr(socket, "VMADDR_PORT_ANY", 0xFFFFFFFF)))
        self.victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(86400)"],
                                       env={"PATH": "/usr/bin:/bin", "OURO_SELFTEST_SECRET": self.secret},
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.log = log
        self.canary_sha = _sha(self.canary)

    def info(self) -> dict:
        return {"canary_path": str(self.canary), "forbidden_path": str(self.forbidden), "host_ips": _host_ips(),
                "tcp_port": self.tcp.port, "udp_port": self.udp.port, "victim_pid": self.victim.pid,
                "supervisor_pid": os.getpid(), "audit_log": str(self.log.path), "audit_key": str(self.log.key_path),
                "home": str(self.log.path.parent.parent), "abstract_unix": self.abstract_name if self.unix else None,
                "vsock_port": self.vsock.port if self.vsock else None}

    def _listeners(self):
        return [(n, l) for n, l in (("TCP", self.tcp), ("UDP", self.udp), ("abstract unix", self.unix),
                                    ("vsock", self.vsock)) if l is not None]

    def snapshot(self) -> dict:
        return {"hits": {n: l.hits for n, l in self._listeners()}, "log_sha": _sha(self.log.path),
                "key_sha": _sha(self.log.key_path), "log_size": self.log.path.stat().st_size if self.log.path.exists() else 0}

    def breaches(self, before: dict, texts: list[str]) -> list[str]:
        """Host-side evidence that an attack got out; empty when contained."""
        out = []
        for name, listener in self._listeners():
            got = listener.hits - before["hits"][name]
            if got:
                out.append(f"host {name} listener got {got} connection(s) or datagram(s)")
        if _sha(self.canary) != self.canary_sha:
            out.append("host canary file changed")
        if self.forbidden.exists():
            out.append(f"host file {self.forbidden} was created")
            try:
                self.forbidden.unlink()  # recorded; the next attack starts clean
            except OSError:
                pass
        if self.victim.poll() is not None:
            out.append(f"host victim process {self.victim.pid} was killed")
        if any(self.secret in t for t in texts):
            out.append("the host secret reached the sandbox (seen in its output or files)")
        if _sha(self.log.key_path) != before["key_sha"]:
            out.append("audit key changed")
        size = self.log.path.stat().st_size if self.log.path.exists() else 0
        if size < before["log_size"] or (before["log_sha"] and _sha_prefix(self.log.path, before["log_size"]) != before["log_sha"]):
            out.append("audit log rewritten")
        return out

    def close(self):
        for _, listener in self._listeners():
            listener.close()
        self.victim.kill()
        self.victim.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _sha_prefix(path: Path, size: int) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(size)).hexdigest()
    except OSError:
        return None


def _rss_kb(field_name: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


# -- running ---------------------------------------------------------------------------------
def selftest_policy(policy):
    """Small limits so every bomb ends within seconds."""
    return policy.with_limits(memory_mb=256, pids=32, wall_time_s=8.0, output_bytes=64 * 1024, disk_mb=24,
                              fsize_mb=12, nofile=256, cpus=1.0)


def run_selftest(backend: str, *, home, policy, only: list[str] | None = None,
                 progress: Callable[[str], None] | None = None, attacks: list[Attack] | None = None) -> SelftestReport:
    from ouro.sandbox.audit.log import default_log

    attacks = attacks if attacks is not None else load_attacks()
    if only:
        attacks = [a for a in attacks if a.name in only or a.category in only or f"class{a.klass}" in only]
        if not attacks:
            raise SelftestError(f"no attack or category named {', '.join(only)}")
    home.ensure()
    log = default_log(home)
    log.key()
    policy = selftest_policy(policy.with_backend(backend))
    _preflight(backend, policy)
    run_id = f"selftest-{backend}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    targets = HostTargets(home, log)
    results = []
    try:
        for i, attack in enumerate(attacks, 1):
            if progress:
                progress(f"[{i}/{len(attacks)}] {attack.name} ({attack.category})")
            limit = (attack.timeout or policy.limits.wall_time_s) * (2 if attack.run in ("warm", "pair") else 1) + 90
            with _watchdog(limit, backend, run_id) as fired:
                result = _run_one(attack, backend, policy, targets, log, run_id, fired)
            if fired:
                result.contained = False
                result.why = ("the backend hung; the self-test's watchdog stepped in. " + result.why).strip()
            results.append(result)
    finally:
        targets.close()
    return SelftestReport(backend, run_id, results)


class _Watch(list):
    """What the watchdog did (truthy once it fired) and what it should do when it fires."""

    def __init__(self):
        super().__init__()
        self.on_fire: list[Callable[[], None]] = []


@contextmanager
def _watchdog(seconds: float, backend: str, run_id: str):
    """A backend call that never returns must not hang the whole self-test. Signals do not
    help (they may land on another thread while the main one sits in a blocking read), so a
    timer thread removes the attack's containers, which closes the stream the backend waits
    on, and runs what the attack registered (opening a FIFO the host blocks on, for bwrap)."""
    fired = _Watch()

    def expire():
        fired.append(True)
        if backend in ("docker", "gvisor"):
            _remove_containers(run_id)
        for fn in list(fired.on_fire):
            try:
                fn()
            except Exception:
                pass

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


def _unblock_fifos(root: Path) -> None:
    """Open every FIFO under root for writing and close it: a host read blocked on one ends."""
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            try:
                if stat.S_ISFIFO(os.lstat(p).st_mode):
                    os.close(os.open(p, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass


def _preflight(backend: str, policy) -> None:
    from ouro.sandbox.backends import open_sandbox

    try:
        sb = open_sandbox(policy, "selftest", unsafe_local=True, audit=True, labels={"ouro.selftest": "preflight"})
    except Exception as e:  # SandboxError, docker errors: the backend is not usable here
        raise SelftestError(f"backend {backend} is not available: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    sb.close()


@dataclass
class _Outcome:
    """What one attack's run produced, whatever its mode."""

    events: list[dict] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)
    reason: str = ""


def _run_one(attack: Attack, backend: str, policy, targets: HostTargets, log, run_id: str,
             fired: _Watch | None = None) -> AttackResult:
    from ouro.sandbox.audit.events import events_from_findings
    from ouro.sandbox.audit.static_scan import scan_changed_files

    started = time.monotonic()
    common = {"run_id": run_id, "policy": "selftest", "backend": backend}
    out = _Outcome()
    before = targets.snapshot()
    if "host_memory" in attack.checks:
        _reset_peak_rss()
    rss0 = _rss_kb("VmRSS")
    ws = Path(tempfile.mkdtemp(prefix="ws-", dir=targets.dir))
    protected: dict[str, str | None] = {}
    fired = fired if fired is not None else _Watch()
    try:
        if attack.run in ("python", "pytest", "site", "pair", "warm"):
            # 1. static scan: the attack file as a candidate would present it
            out.events += events_from_findings(scan_changed_files({attack.path: attack.source}), **common)
            protected = _run_in_sandbox(attack, backend, policy, targets, ws, common, out, fired)
        elif attack.run == "envbuild":
            _run_envbuild(attack, backend, policy, targets, ws, common, out)
        elif attack.run == "scenario":
            _run_scenario(attack, targets, ws, common, out)
        elif attack.run == "cli":
            _run_cli(attack, backend, targets, ws, common, out)
        elif attack.run == "install":
            _run_install(attack, ws, common, out)
    except Exception as e:
        out.why.append(f"self-test error: {type(e).__name__}: {e}"[:200])
    # host-side checks
    why = out.why
    why += targets.breaches(before, out.texts)
    left = _containers_left(run_id) if backend in ("docker", "gvisor") else 0
    if left:
        why.append(f"{left} container(s) left behind")
        _remove_containers(run_id)  # recorded; now clear them so the next attack starts clean
    for rel, sha in protected.items():
        if _sha(ws / rel) != sha:
            why.append(f"host copy of {rel} changed")
    if "log_intact" in attack.checks:
        v = log.verify()
        if not v.ok:
            why.append(f"audit log no longer verifies: {v.reason}")
    if "host_counts" in attack.checks:
        why += _host_count_breaches(out.events, run_id)
    if "host_memory" in attack.checks:
        grew = (_rss_kb("VmHWM") - rss0) // 1024
        if grew > 256:
            why.append(f"the host process grew by {grew} MB reading the sandbox's files")
    seconds = time.monotonic() - started
    if "no_hang" in attack.checks and (fired or seconds > (attack.timeout or policy.limits.wall_time_s) + 60):
        why.append(f"the host's reading of the sandbox's files took {seconds:.0f}s (hung)")
    shutil.rmtree(ws, ignore_errors=True)

    for e in out.events:
        e["attack"] = attack.name
    log.append_many(out.events)
    kinds = sorted({e["kind"] for e in out.events})
    sources = sorted({e["source"] for e in out.events if e["kind"] in attack.kinds})
    return AttackResult(attack=attack.name, category=attack.category, backend=backend, contained=not why,
                        logged=any(k in kinds for k in attack.kinds), kind=attack.kind, seen=kinds, sources=sources,
                        reason=out.reason, why="; ".join(dict.fromkeys(why)), seconds=round(seconds, 2),
                        klass=attack.klass)


def _run_in_sandbox(attack: Attack, backend: str, policy, targets: HostTargets, ws: Path, common: dict,
                    out: _Outcome, fired: _Watch) -> dict[str, str | None]:
    """The modes that run the attack inside a sandbox: python, pytest, site, pair, warm."""
    from ouro.sandbox.audit.events import events_from_exec
    from ouro.sandbox.audit.rules import guest_env
    from ouro.sandbox.backends import open_sandbox

    files: dict[str, str] = {}
    if attack.run != "site":
        files[attack.path] = attack.source
    if attack.run in ("pytest", "pair"):
        files["test_victim.py"] = VICTIM_TEST
    if attack.run == "warm":
        files.pop(attack.path)  # candidate A brings it
        files["core.py"] = CORE_41
        files["tests/test_core.py"] = PROTECTED_TEST
    if "test_intact" in attack.checks:
        files["core.py"] = CORE_41
        files.setdefault("tests/test_core.py", PROTECTED_TEST)
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    (ws / "target.json").write_text(json.dumps(targets.info()))
    protected = {rel: _sha(ws / rel) for rel in files if rel.startswith("tests/")}

    site_dir = None
    if attack.run == "site":
        site_dir = Path(tempfile.mkdtemp(prefix="site-", dir=targets.dir))
        os.chmod(site_dir, 0o755)
        (site_dir / "ouro_selftest_payload.py").write_text(attack.source)
        (site_dir / attack.path).write_text("import ouro_selftest_payload\n")
        for f in site_dir.iterdir():
            os.chmod(f, 0o644)
        policy = _with_mount(policy, str(site_dir), SITE_IN_SANDBOX)
    sb = None
    try:
        sb = open_sandbox(policy, "selftest", workspace=ws, unsafe_local=True, audit=True,
                          labels={"ouro.selftest": common["run_id"]})
        if getattr(sb, "_root", None) is not None:
            fired.on_fire.append(lambda root=Path(sb._root): _unblock_fifos(root))
        env = {"OURO_WORKSPACE": sb.workspace, **guest_env(policy.audit_rules)}
        timeout = attack.timeout or policy.limits.wall_time_s
        python = getattr(sb, "python", "python3")
        args = ["-q", "-p", "no:cacheprovider", "."]

        def record(result, label):
            out.events.extend(events_from_exec(result, label=label, **common))
            out.texts.extend([result.stdout, result.stderr])

        if attack.run == "pytest":
            from ouro.sandbox.testrun import run_tests_cold

            tr = run_tests_cold(sb, args, timeout=timeout, env=env)
            result = tr.exec
            _judge(attack, tr, "test_victim.py::test_must_fail", out)
            record(result, attack.name)
        elif attack.run == "warm":
            from ouro.sandbox.testrun import WarmWorker

            with WarmWorker(sb) as worker:
                a = worker.run({attack.path: attack.source.encode()}, ["-q", "-p", "no:cacheprovider", "tests"], timeout)
                record(a.exec, f"{attack.name} A")
                if "no_leftover" in attack.checks:
                    n = _leftovers(sb, spare=worker)
                    if n:
                        out.why.append(f"{n} process(es) of the sandbox uid outlived candidate A's validation")
                b = worker.run({}, ["-q", "-p", "no:cacheprovider", "tests"], timeout)
                record(b.exec, f"{attack.name} B")
            result = b.exec
            _judge(attack, b, "tests/test_core.py::test_core", out)
        else:
            cmd = [python, "-c", "import sys"] if attack.run == "site" else [python, attack.path]
            result = sb.exec(cmd, timeout=timeout, env=env, cwd=sb.workspace)
            record(result, attack.name)
            if "no_leftover" in attack.checks:
                n = _leftovers(sb)
                if n:
                    out.why.append(f"{n} process(es) of the sandbox uid outlived the execution")
            if attack.run == "pair":
                from ouro.sandbox.testrun import run_tests_cold

                tr = run_tests_cold(sb, args, timeout=timeout, env=env)
                record(tr.exec, f"{attack.name} B")
                _judge(attack, tr, "test_victim.py::test_must_fail", out)
        out.reason = getattr(result.reason, "value", str(result.reason))
        if "families_refused" in attack.checks:
            out.why += _families_open(sb, backend)
        # read back what the attack planted: the host must not follow its links
        for rel in attack.readback:
            try:
                out.texts.append(sb.read_file(rel).decode("utf-8", "replace"))
            except Exception:
                pass
        limit_attack = any(c.startswith(("reason:", "reason@")) for c in attack.checks)
        if not (limit_attack and out.reason != "normal"):
            # (a bomb stopped at a limit leaves its debris, not secrets: 200,000 files are not worth a copy)
            out_dir = Path(tempfile.mkdtemp(prefix="out-", dir=targets.dir))
            try:
                sb.copy_out(out_dir)
            except Exception:
                pass
            out.texts += _regular_file_texts(out_dir)
        reasons = [c for c in attack.checks if c.startswith(f"reason@{backend}:")] or \
                  [c for c in attack.checks if c.startswith("reason:")]
        for c in reasons:
            if c:
                wanted = c.split(":", 1)[1].split("|")
                if out.reason not in wanted:
                    out.why.append(f"ended {out.reason}, expected {'/'.join(wanted)}")
                if out.reason == "timeout" and result.duration_s > timeout + 10:
                    out.why.append(f"ran {result.duration_s:.0f}s past a {timeout:.0f}s limit")
    finally:
        if sb is not None:
            try:
                sb.close()
            except Exception as e:
                out.why.append(f"sandbox did not close: {type(e).__name__}")
        if site_dir is not None:
            _drop_bwrap_mirror(site_dir)
    return protected


def _judge(attack: Attack, tr, victim: str, out: _Outcome) -> None:
    """judged_failing and clean_text on a test run the host got back."""
    if "judged_failing" in attack.checks:
        passed = sorted(tr.passed)
        if victim in tr.passed or (attack.run == "pytest" and passed):
            flagged = sorted({e["kind"] for e in out.events if e["source"] == "static"})
            out.why.append(f"runner judged passing: {', '.join(passed)}"
                           + (f" (static scan flags {', '.join(flagged)}: ouro repair rejects such a candidate "
                              f"before running it)" if flagged else ""))
    if "clean_text" in attack.checks:
        texts = [*tr.collected, *tr.outcomes, *(o.longrepr for o in tr.outcomes.values()), tr.problem,
                 tr.exec.stdout, tr.exec.stderr]
        bad = sorted({repr(ch) for t in texts for ch in (t or "") if ch in CONTROL})
        if bad:
            out.why.append(f"terminal control characters reach the host's text: {' '.join(bad[:8])}")


def _with_mount(policy, host: str, inside: str):
    from dataclasses import replace

    return replace(policy, readonly_mounts={**policy.readonly_mounts, host: inside})


def _drop_bwrap_mirror(path: Path) -> None:
    """bwrap mirrors a root-private mount source under /var/cache/ouro-bwrap; drop that copy too."""
    try:
        from ouro.sandbox.bwrap_backend import MIRROR_ROOT

        for m in MIRROR_ROOT.glob(f"{path.name}-*"):
            shutil.rmtree(m, ignore_errors=True)
    except Exception:
        pass


def _families_open(sb, backend: str) -> list[str]:
    """ouro's own probe (guest/family_probe.py), run after the attack in the same sandbox: which families open?"""
    allowed = {socket.AF_UNIX, socket.AF_INET, socket.AF_INET6}
    if backend == "gvisor":
        allowed.add(socket.AF_NETLINK)  # gVisor's own netlink, served by its sentry, never the host kernel
    try:
        r = sb.exec([getattr(sb, "python", "python3"), "-I", "-S", f"{sb.guest_dir}/family_probe.py"], timeout=60)
        line = next(ln for ln in r.stdout.splitlines() if ln.startswith("OURO-FAMILIES "))
        opened = set(json.loads(line.split(" ", 1)[1]))
    except (StopIteration, ValueError, Exception) as e:
        return [f"the socket-family probe did not run: {type(e).__name__}"]
    extra = sorted(opened - allowed)
    return [f"socket families open in the sandbox besides UNIX/INET/INET6: {extra}"] if extra else []


def _leftovers(sb, spare=None) -> int:
    """Processes of the sandbox uid still alive in this sandbox once the execution is over,
    counted from the host where it can (runc cgroup, bwrap cgroup) and by a probe under another
    uid on gVisor. A process still being torn down (a pid namespace dies with its init, SIGKILL
    lands asynchronously) gets two seconds to go. `spare`: a WarmWorker whose own worker
    process does not count."""
    deadline = time.monotonic() + 2.0
    while True:
        n = _count_leftovers(sb, spare)
        if n == 0 or time.monotonic() >= deadline:
            return n
        time.sleep(0.1)


def _count_leftovers(sb, spare=None) -> int:
    uid = getattr(getattr(sb, "policy", None), "uid", 10001)
    backend = getattr(sb, "backend", "")
    if backend == "gvisor":
        procs = _gvisor_ps(getattr(sb, "id", ""))
        if procs is not None:  # the sentry's own process table, read from the host: an outside view
            return max(0, sum(1 for p in procs if p.get("uid") == uid)
                       - (1 if spare is not None else 0) - (1 if getattr(sb, "_killer", None) is not None else 0))
        script = ("n=0; for d in /proc/[0-9]*; do st=; while read -r k v r; do case $k in State:) st=$v;; Uid:) "
                  f"[ \"$v\" = {uid} ] && [ \"$st\" != Z ] && n=$((n+1)); break;; esac; done < $d/status; done; echo $n")
        try:
            raw = sb._raw(["/bin/sh", "-c", script], timeout=10, cap=4096, user=65534, kill_on_limit=False)
            n = int(raw.stdout.strip())
        except Exception:
            return 0
        return max(0, n - (1 if spare is not None else 0) - (1 if getattr(sb, "_killer", None) is not None else 0))
    pids = _cgroup_procs(sb)
    if pids is None:
        return 0
    spared = _spared_host_pids(sb, spare)
    return sum(1 for p in pids if p not in spared and _proc_status(p, "Uid") == str(uid)
               and _proc_status(p, "State") != "Z")  # a zombie is dead, only not yet collected


def _gvisor_ps(container_id: str) -> list[dict] | None:
    """`runsc debug --ps` for a gVisor container: its processes as the sentry sees them, from the
    host (root only; None where the runtime's state cannot be found)."""
    if not container_id or not shutil.which("runsc"):
        return None
    for d in ("/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby",
              "/run/containerd/io.containerd.runtime.v2.task/moby"):
        try:
            root = json.loads((Path(d) / container_id / "options.json").read_text()).get("root")
        except (OSError, ValueError):
            continue
        if not root:
            continue
        try:
            out = subprocess.run(["runsc", f"--root={root}/moby", "debug", "--ps", container_id],
                                 capture_output=True, text=True, timeout=30).stdout
            table = json.loads(out[out.index("[["):])
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        return [p for group in table for p in group if isinstance(p, dict)]
    return None


def _cgroup_procs(sb) -> list[int] | None:
    if getattr(sb, "backend", "") == "docker":
        d = getattr(getattr(sb, "cgroup", None), "dirs", {}).get("pids")
        path = (Path(d) / "cgroup.procs") if d else None
    else:
        cg = getattr(sb, "cgroup", None)
        path = None
        for attr in ("path", "dirs", "paths"):
            v = getattr(cg, attr, None)
            if isinstance(v, dict):
                v = v.get("pids") or next(iter(v.values()), None)
            if v:
                path = Path(v) / "cgroup.procs"
                break
    if path is None:
        return None
    try:
        return [int(x) for x in path.read_text().split()]
    except OSError:
        return None


def _proc_status(pid: int, key: str) -> str | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split()[1] if key != "NSpid" else line.split(":", 1)[1].strip()
    except (OSError, IndexError):
        return None
    return None


def _spared_host_pids(sb, worker) -> set[int]:
    """Host pids of the warm worker's process and its keepers (bwrap's setpriv/bwrap/init chain)."""
    if worker is None or getattr(worker, "_proc", None) is None:
        return set()
    proc = worker._proc
    if getattr(sb, "backend", "") == "docker":
        inside = getattr(proc, "pid", None)
        pids = _cgroup_procs(sb) or []
        return {p for p in pids if (_proc_status(p, "NSpid") or "").split()[-1:] == [str(inside)]}
    top = getattr(getattr(proc, "proc", None), "pid", None)
    if top is None:
        return set()
    spared, frontier = {top}, [top]
    while frontier:  # the chain from bwrap down to the worker: ns pid 1 and 2 of its namespace
        p = frontier.pop()
        try:
            kids = [int(x) for x in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            kids = []
        for k in kids:
            ns = (_proc_status(k, "NSpid") or "").split()
            if len(ns) >= 2 and ns[-1] not in ("1", "2"):
                continue  # a process the worker's namespace started later: not the worker
            spared.add(k)
            frontier.append(k)
    return spared


def _host_count_breaches(events: list[dict], run_id: str) -> list[str]:
    """Records from the sandbox must not pass for host records (see HOST_ONLY_KINDS)."""
    out = []
    execs = [e for e in events if e["kind"] == "exec"]
    per_exec = 1
    if len([e for e in execs if e.get("source") == "exec"]) < len(execs):
        out.append(f"{len(execs) - len([e for e in execs if e.get('source') == 'exec'])} exec records came from "
                   f"the sandbox (the host counts executions itself)")
    sandbox = [e for e in events if e.get("source") not in HOST_SOURCES]
    forged = sorted({e["kind"] for e in sandbox if e["kind"] in HOST_ONLY_KINDS})
    if forged:
        out.append(f"the sandbox's channel was stored with host-only kinds: {', '.join(forged)}")
    foreign = sorted({e.get("run_id") for e in events if e.get("run_id") != run_id})
    if foreign:
        out.append(f"records with a run id the host did not assign: {foreign[:3]}")
    n_exec = max(per_exec, len([e for e in execs if e.get("source") == "exec"]))
    if len(sandbox) > SANDBOX_RECORDS_BOUND * n_exec:
        out.append(f"{len(sandbox)} records from one execution's channel (unbounded)")
    return out


# -- envbuild: a repository whose dependency files are the attack ------------------------------
def _run_envbuild(attack: Attack, backend: str, policy, targets: HostTargets, repo: Path, common: dict,
                  out: _Outcome) -> None:
    from ouro.sandbox.audit.events import events_from_exec, make_event

    info = json.dumps(targets.info())
    files = dict(_evil_package_files(attack.meta["package"])) if "package" in attack.meta else {}
    files.update(attack.literal("FILES"))
    for rel, text in files.items():
        text = text.replace("@@TARGET_JSON@@", info).replace("@@REPO@@", str(repo))
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    (repo / "target.json").write_text(info)
    if "sdist" in attack.meta:
        src, _, archive = attack.meta["sdist"].partition("=")
        top = Path(archive).name[: -len(".tar.gz")]
        (repo / archive).parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(repo / archive, "w:gz") as tar:
            tar.add(repo / src, arcname=top)
        shutil.rmtree(repo / src)
    if "git" in attack.meta:
        d = repo / attack.meta["git"]
        git = ["git", "-c", "user.name=selftest", "-c", "user.email=selftest@invalid", "-C", str(d)]
        for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "evil"]):
            subprocess.run(git + cmd, capture_output=True, timeout=60)
    built = None
    try:
        built = _build_env(repo, backend, policy)
    except Exception as e:  # ImageError, BadInput, PreconditionFailed...: the build was refused or failed
        msg = str(e).strip() or type(e).__name__
        out.texts.append(msg)
        out.events.append(make_event("dependency_refused", msg.splitlines()[0][:300], source="host", **common))
        out.events += _events_of(e, events_from_exec, common)
        out.reason = "refused"
        if "refused" in attack.checks and len(msg.splitlines()) != 1:
            out.why.append(f"the build was refused, but not with one line ({len(msg.splitlines())} lines)")
    else:
        out.reason = "built"
        out.events += _events_of(built, events_from_exec, common)
        site = getattr(built, "site_dir", None)
        if site:
            out.texts += _regular_file_texts(Path(site))
        if "refused" in attack.checks:
            out.why.append("the environment was built: an option pointing pip outside the index was not refused")
    finally:
        _forget_env(built)


def _evil_package_files(spec: str) -> dict[str, str]:
    """The header `package: DIR[=FILE+FILE]`: the shared package's files (all, or those named),
    keyed by their path under DIR in the attack's repository."""
    target, _, names = spec.partition("=")
    wanted = set(names.split("+")) if names else None
    files = {}
    for f in sorted(EVIL_PACKAGE_DIR.iterdir()):
        if f.is_file() and f.suffix in (".py", ".toml") and (wanted is None or f.name in wanted):
            files[f"{target}/{f.name}"] = f.read_text()
    if wanted is not None and {Path(k).name for k in files} != wanted:
        raise SelftestError(f"package: {spec}: {EVIL_PACKAGE_DIR.name}/ has no {', '.join(sorted(wanted))}")
    return files


def _build_env(repo: Path, backend: str, policy):
    """The environment build as `ouro repair` runs it (sandbox.images.ensure_env)."""
    import inspect

    from ouro.sandbox import images

    params = inspect.signature(images.ensure_env).parameters
    kwargs = {k: v for k, v in (("backend", backend), ("policy", policy)) if k in params}
    return images.ensure_env(repo, **kwargs)


def _events_of(obj, events_from_exec, common: dict) -> list[dict]:
    """Events a build carried: its sandboxed build step's ExecResult(s) or hook events."""
    out = []
    for attr in ("build_result", "build_results"):
        r = getattr(obj, attr, None)
        for res in (r if isinstance(r, (list, tuple)) else [r] if r is not None else []):
            try:
                out += events_from_exec(res, label="environment build", **common)
            except Exception:
                pass
    return out


def _forget_env(env) -> None:
    """Remove what the build cached (its image and site dir), so attacks do not pile up."""
    if env is None or not getattr(env, "key", ""):
        return
    site = getattr(env, "site_dir", None)
    if site:
        shutil.rmtree(site, ignore_errors=True)
    image = getattr(env, "image", "")
    if image and not image.startswith("ouro-base"):
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True, timeout=120)


# -- scenario: tampering with a scratch audit directory on the host -----------------------------
def _run_scenario(attack: Attack, targets: HostTargets, scratch: Path, common: dict, out: _Outcome) -> None:
    from ouro.sandbox.audit.events import make_event
    from ouro.sandbox.audit.log import default_log
    from ouro.sandbox.core.home import OuroHome

    home = OuroHome(scratch / "home").ensure()
    env = dict(os.environ, OURO_AUDIT_ANCHOR_DIR=str(scratch / "anchors"))
    log = default_log(home)
    sample = [make_event("exec", "exit=0", source="exec", **common),
              make_event("secret_read", "open('/etc/shadow')", source="hook", **common),
              make_event("exec", "exit=1", source="exec", **common)]
    _with_env(env, lambda: (log.append_many(sample), log.index().close()))
    old = scratch / "old"
    old.mkdir()
    shutil.copyfile(log.path, old / log.path.name)
    shutil.copyfile(log.head_path, old / log.head_path.name)
    _with_env(env, lambda: (log.append_many(sample), log.index().close()))
    paths = {"log": str(log.path), "head": str(log.head_path), "index": str(log.index_path),
             "old_log": str(old / log.path.name), "old_head": str(old / log.head_path.name), "home": str(home.root)}
    (scratch / "paths.json").write_text(json.dumps(paths))
    (scratch / "attack.py").write_text(attack.source)
    subprocess.run([sys.executable, "-I", str(scratch / "attack.py"), str(scratch / "paths.json")], cwd=scratch,
                   capture_output=True, timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    p = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(home.root), "audit", "verify"],
                       capture_output=True, text=True, timeout=120, env=env)
    said = (p.stdout + p.stderr).strip()
    out.reason = f"exit {p.returncode}"
    if p.returncode == 1:
        out.events.append(make_event("audit_tamper", f"ouro audit verify: {said.splitlines()[0][:300] if said else ''}",
                                     source="verify", **common))
    if "verify_fails" in attack.checks:
        if p.returncode != 1:
            out.why.append(f"ouro audit verify exited {p.returncode} on a tampered log: {said.splitlines()[0][:120] if said else ''}")
        elif len(said.splitlines()) != 1:
            out.why.append(f"ouro audit verify said {len(said.splitlines())} lines, not one")


def _with_env(env: dict, fn):
    """Run fn with os.environ set to env (the anchor dir the scratch log must use)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return fn()
    finally:
        os.environ.clear()
        os.environ.update(saved)


# -- cli: `ouro sandbox run` must log like every command ----------------------------------------
def _run_cli(attack: Attack, backend: str, targets: HostTargets, ws: Path, common: dict, out: _Outcome) -> None:
    from ouro.sandbox.audit.log import AuditLog

    (ws / "attack.py").write_text(attack.source)
    (ws / "target.json").write_text(json.dumps(targets.info()))
    home = ws.parent / f"{ws.name}-home"
    p = subprocess.run([sys.executable, "-m", "ouro.agent.cli", "--home", str(home), "sandbox", "run", "--backend", backend,
                        "--repo", str(ws), "--timeout", "60", "--", "python3", "attack.py"],
                       capture_output=True, text=True, timeout=300)
    out.reason = f"exit {p.returncode}"
    out.texts += [p.stdout, p.stderr]
    log = AuditLog(home / "audit" / "log.jsonl")
    records = list(log.records())
    for r in records:
        e = {k: v for k, v in r.items() if k not in ("seq", "prev", "mac", "ts")}
        e.update(common)
        out.events.append(e)
    if "cli_logged" in attack.checks:
        if not any(r.get("kind") == "exec" for r in records):
            out.why.append("`ouro sandbox run` left no exec record in its home's audit log")
        elif not log.verify().ok:
            out.why.append(f"`ouro sandbox run`'s audit log does not verify: {log.verify().reason}")
    shutil.rmtree(home, ignore_errors=True)


# -- install: the default policy in an installed (non-editable) layout ---------------------------
_POLICY_PROBE = r"""
import sys
sys.path.insert(0, sys.argv[1])
try:
    from ouro.sandbox.policy import load_policy
    p = load_policy()
except Exception as e:
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(2)
print(len(p.audit_rules))
"""


def _run_install(attack: Attack, scratch: Path, common: dict, out: _Outcome) -> None:
    from ouro.sandbox.audit.events import make_event

    drop = set(attack.literal("DROP"))
    src = Path(__file__).resolve().parent.parent  # sandbox/, installed as ouro.sandbox
    site = scratch / "site"
    shutil.copytree(src, site / "ouro" / "sandbox", ignore=shutil.ignore_patterns("__pycache__", *drop))
    # files at the repository's root (policies.toml) are in no package: a wheel carries none of them
    p = subprocess.run([sys.executable, "-I", "-c", _POLICY_PROBE, str(site)], capture_output=True, text=True,
                       timeout=60, cwd=scratch)
    said = (p.stderr or p.stdout).strip()
    out.reason = f"exit {p.returncode}"
    rules = int(p.stdout.strip()) if p.returncode == 0 and p.stdout.strip().isdigit() else None
    if rules == 0:
        detail = "an installed ouro loaded a default policy with no audit rules (silent fallback)"
    elif rules:
        detail = f"an installed ouro loaded the default policy with {rules} audit rules"
    else:
        detail = f"an installed ouro refused to run without its policy: {said.splitlines()[-1][:200] if said else ''}"
    out.events.append(make_event("sandbox_disable", detail, source="host", **common))
    if "policy_applies" in attack.checks:
        if rules == 0:
            out.why.append("the installed default policy has no audit rules (the loader fell back silently)")
        elif rules is None and (p.returncode != 2 or len(said.splitlines()) != 1):
            out.why.append(f"loading the installed default policy failed without one clear line (exit {p.returncode}, "
                           f"{len(said.splitlines())} lines)")


def _regular_file_texts(root: Path) -> list[str]:
    out = []
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            if p.is_symlink() or not p.is_file():
                continue
            try:
                out.append(p.read_bytes()[: 1 << 20].decode("utf-8", "replace"))
            except OSError:
                continue
    return out


def _containers_left(run_id: str) -> int:
    try:
        out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=ouro.selftest={run_id}"],
                             capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return len(out.split())


def _remove_containers(run_id: str) -> None:
    try:
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=ouro.selftest={run_id}"],
                             capture_output=True, text=True, timeout=30).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        pass

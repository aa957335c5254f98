"""The red-team self-test: run every attack in sandbox/audit/attacks/ and prove two things.

Contained: a check made on the HOST shows the attack had no effect outside the sandbox —
a canary file with a secret is unchanged and its secret never reached the sandbox's output
or files, a host path the attack tried to create does not exist, host TCP/UDP listeners
received nothing, a host "victim" process (whose environment holds the secret) is alive,
no container is left behind, the audit log still verifies, and where the attack aims at a
limit, the sandbox ended the run with the matching EndReason. Fake-pass attacks must be
judged failing by the test runner.

Logged: the attack's expected kind appears among the events the static scan, the
in-sandbox hook and the container's own signals produced; all of them are appended to the
audit log under a `selftest-...` run id.

Attack files start with a header of `# key: value` lines:
  attack    unique name                 category  one of the categories in the issue
  kind      the event kind that must be logged
  check     extra host-side check: reason:<end reason> | judged_failing | test_intact | log_intact
  path      where the file goes in the workspace (default attack.py)
  run       python (default) | pytest (run with the test runner next to a failing victim test)
  readback  workspace paths the host reads back afterwards (symlink planting)
  timeout   seconds for the execution (default: the self-test's wall limit)
The attack reads its targets (host paths, ports, pids) from target.json in its workspace.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

ATTACKS_DIR = Path(__file__).resolve().parent / "attacks"
VICTIM_TEST = "def test_must_fail():\n    assert 1 == 2, 'this test fails on purpose'\n"
PROTECTED_TEST = "def test_core():\n    from core import value\n    assert value() == 42\n"


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
            if sep:
                meta[key.strip()] = value.strip()
        missing = [k for k in ("attack", "category", "kind") if k not in meta]
        if missing:
            raise SelftestError(f"{f.name}: header lacks {', '.join(missing)}")
        attacks.append(Attack(
            name=meta["attack"], category=meta["category"], kind=meta["kind"], source=source, file=f.name,
            check=meta.get("check", ""), path=meta.get("path", "attack.py"), run=meta.get("run", "python"),
            readback=tuple(x.strip() for x in meta.get("readback", "").split(",") if x.strip()),
            timeout=float(meta["timeout"]) if "timeout" in meta else None, describe=meta.get("describe", "")))
    names = [a.name for a in attacks]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SelftestError(f"duplicate attack names: {', '.join(sorted(dup))}")
    return attacks


# -- the host side: targets and their checks ---------------------------------------------------
class _Listener:
    """A host socket that counts what reaches it (TCP connections or UDP datagrams)."""

    def __init__(self, kind: int):
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))
        self.port = self.sock.getsockname()[1]
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
        self.victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(86400)"],
                                       env={"PATH": "/usr/bin:/bin", "OURO_SELFTEST_SECRET": self.secret},
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.log = log
        self.canary_sha = _sha(self.canary)

    def info(self) -> dict:
        return {"canary_path": str(self.canary), "forbidden_path": str(self.forbidden), "host_ips": _host_ips(),
                "tcp_port": self.tcp.port, "udp_port": self.udp.port, "victim_pid": self.victim.pid,
                "supervisor_pid": os.getpid(), "audit_log": str(self.log.path), "audit_key": str(self.log.key_path),
                "home": str(self.log.path.parent.parent)}

    def snapshot(self) -> dict:
        return {"tcp": self.tcp.hits, "udp": self.udp.hits, "log_sha": _sha(self.log.path),
                "key_sha": _sha(self.log.key_path), "log_size": self.log.path.stat().st_size if self.log.path.exists() else 0}

    def breaches(self, before: dict, texts: list[str]) -> list[str]:
        """Host-side evidence that an attack got out; empty when contained."""
        out = []
        if self.tcp.hits != before["tcp"]:
            out.append(f"host TCP listener got {self.tcp.hits - before['tcp']} connection(s)")
        if self.udp.hits != before["udp"]:
            out.append(f"host UDP listener got {self.udp.hits - before['udp']} datagram(s)")
        if _sha(self.canary) != self.canary_sha:
            out.append("host canary file changed")
        if self.forbidden.exists():
            out.append(f"host file {self.forbidden} was created")
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
        self.tcp.close()
        self.udp.close()
        self.victim.kill()
        self.victim.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _sha_prefix(path: Path, size: int) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(size)).hexdigest()
    except OSError:
        return None


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
        attacks = [a for a in attacks if a.name in only or a.category in only]
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
            with _watchdog((attack.timeout or policy.limits.wall_time_s) + 90, backend, run_id) as fired:
                result = _run_one(attack, backend, policy, targets, log, run_id)
            if fired:
                result.contained = False
                result.why = ("the backend hung; the self-test's watchdog removed the container. " + result.why).strip()
            results.append(result)
    finally:
        targets.close()
    return SelftestReport(backend, run_id, results)


@contextmanager
def _watchdog(seconds: float, backend: str, run_id: str):
    """A backend call that never returns must not hang the whole self-test. Signals do not
    help (they may land on another thread while the main one sits in a blocking read), so a
    timer thread removes the attack's containers, which closes the stream the backend waits
    on. Yields a list that says whether it had to step in."""
    fired: list[bool] = []

    def expire():
        fired.append(True)
        _remove_containers(run_id)

    timer = threading.Timer(seconds, expire) if backend in ("docker", "gvisor") else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        yield fired
    finally:
        if timer:
            timer.cancel()


def _preflight(backend: str, policy) -> None:
    from ouro.sandbox.backends import open_sandbox

    try:
        sb = open_sandbox(policy, "selftest", unsafe_local=True, audit=True, labels={"ouro.selftest": "preflight"})
    except Exception as e:  # SandboxError, docker errors: the backend is not usable here
        raise SelftestError(f"backend {backend} is not available: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    sb.close()


def _run_one(attack: Attack, backend: str, policy, targets: HostTargets, log, run_id: str) -> AttackResult:
    from ouro.sandbox.audit.events import events_from_exec, events_from_findings
    from ouro.sandbox.audit.rules import guest_env
    from ouro.sandbox.audit.static_scan import scan_changed_files
    from ouro.sandbox.backends import open_sandbox

    started = time.monotonic()
    common = {"run_id": run_id, "policy": "selftest", "backend": backend}
    ws = Path(tempfile.mkdtemp(prefix="ws-", dir=targets.dir))
    files: dict[str, str] = {attack.path: attack.source}
    if attack.run == "pytest":
        files["test_victim.py"] = VICTIM_TEST
    if attack.check == "test_intact":
        files["core.py"] = "def value():\n    return 41\n"
        files.setdefault("tests/test_core.py", PROTECTED_TEST)
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    (ws / "target.json").write_text(json.dumps(targets.info()))
    protected = {rel: _sha(ws / rel) for rel in files if rel.startswith("tests/")}

    # 1. static scan: the attack file as a candidate would present it
    events = events_from_findings(scan_changed_files({attack.path: attack.source}), **common)
    before = targets.snapshot()
    texts: list[str] = []
    why: list[str] = []
    reason = ""
    sb = None
    try:
        sb = open_sandbox(policy, "selftest", workspace=ws, unsafe_local=True, audit=True,
                          labels={"ouro.selftest": run_id})
        env = {"OURO_WORKSPACE": sb.workspace, **guest_env(policy.audit_rules)}
        timeout = attack.timeout or policy.limits.wall_time_s
        if attack.run == "pytest":
            from ouro.sandbox.testrun import run_tests_cold

            tr = run_tests_cold(sb, ["-q", "-p", "no:cacheprovider", "."], timeout=timeout, env=env)
            result = tr.exec
            passed = sorted(tr.passed)
            if attack.check == "judged_failing" and passed:
                flagged = sorted({e["kind"] for e in events if e["source"] == "static"})
                why.append(f"runner judged passing: {', '.join(passed)}"
                           + (f" (static scan flags {', '.join(flagged)}: ouro repair rejects such a candidate "
                              f"before running it)" if flagged else ""))
        else:
            result = sb.exec([sb.python, attack.path], timeout=timeout, env=env, cwd=sb.workspace)
        reason = getattr(result.reason, "value", str(result.reason))
        events += events_from_exec(result, label=attack.name, **common)
        texts += [result.stdout, result.stderr]
        # 2. read back what the attack planted: the host must not follow its links
        for rel in attack.readback:
            try:
                texts.append(sb.read_file(rel).decode("utf-8", "replace"))
            except Exception:
                pass
        out_dir = Path(tempfile.mkdtemp(prefix="out-", dir=targets.dir))
        try:
            sb.copy_out(out_dir)
        except Exception:
            pass
        texts += _regular_file_texts(out_dir)
        if attack.check.startswith("reason:"):
            wanted = attack.check.split(":", 1)[1].split("|")
            if reason not in wanted:
                why.append(f"ended {reason}, expected {'/'.join(wanted)}")
            if reason == "timeout" and result.duration_s > timeout + 10:
                why.append(f"ran {result.duration_s:.0f}s past a {timeout:.0f}s limit")
        if attack.check == "output_cap":
            pass
    except Exception as e:
        why.append(f"self-test error: {type(e).__name__}: {e}"[:200])
    finally:
        if sb is not None:
            try:
                sb.close()
            except Exception as e:
                why.append(f"sandbox did not close: {type(e).__name__}")
    # 3. host-side checks
    why += targets.breaches(before, texts)
    left = _containers_left(run_id) if backend in ("docker", "gvisor") else 0
    if left:
        why.append(f"{left} container(s) left behind")
        _remove_containers(run_id)  # recorded; now clear them so the next attack starts clean
    for rel, sha in protected.items():
        if _sha(ws / rel) != sha:
            why.append(f"host copy of {rel} changed")
    if attack.check == "log_intact":
        v = log.verify()
        if not v.ok:
            why.append(f"audit log no longer verifies: {v.reason}")
    shutil.rmtree(ws, ignore_errors=True)

    for e in events:
        e["attack"] = attack.name
    log.append_many(events)
    kinds = sorted({e["kind"] for e in events})
    sources = sorted({e["source"] for e in events if e["kind"] == attack.kind})
    return AttackResult(attack=attack.name, category=attack.category, backend=backend, contained=not why,
                        logged=attack.kind in kinds, kind=attack.kind, seen=kinds, sources=sources, reason=reason,
                        why="; ".join(why), seconds=round(time.monotonic() - started, 2))


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

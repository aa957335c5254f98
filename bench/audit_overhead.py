"""What does the in-sandbox audit hook cost? A test suite's run time with it on against off.

    python bench/audit_overhead.py [--backend plain|bwrap|docker|gvisor] [--rounds 5] [--repos cachet,semver]

Runs the bundled repositories' test suites (repos/*/repo; every one by default) with
`python3 -m pytest`, once with the audit hook installed (PYTHONPATH=guest/boot, OURO_AUDIT=1)
and once without, alternating the order every round so drift on a shared machine hits both
sides alike. Both sides must end with the same pytest exit status and report the same number
of tests, or the bench fails: the hook must not change what the tests do.

backend `plain` (default) runs a host subprocess on a temp copy, so the ratio is the hook's
own cost, undiluted by sandbox start-up; the other backends run the same command inside one
sandbox each (hook on / off), as repairs do.

Last line: RESULT audit_on_s=… audit_off_s=… audit_ratio=… (medians of the per-round totals;
the bar is audit_ratio <= 1.10).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOT = ROOT / "sandbox" / "guest" / "boot"
PYTEST = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]


def find_suites(names: list[str] | None) -> list[Path]:
    suites = sorted(p for p in (ROOT / "repos").glob("*/repo") if p.is_dir())
    if names:
        suites = [p for p in suites if p.parent.name in names]
    if not suites:  # the bundled repos are missing: fall back to the test fixtures
        fixtures = sorted(p for p in (ROOT / "tests" / "fixtures").glob("*") if p.is_dir() and list(p.rglob("test_*.py")))
        suites = fixtures[:3]
    if not suites:
        sys.exit("audit_overhead: no test suite found (repos/*/repo or tests/fixtures/*)")
    return suites


class PlainRunner:
    """Host subprocesses on temp copies: the hook's own cost."""

    def __init__(self, suites: list[Path]):
        self.root = Path(tempfile.mkdtemp(prefix="ouro-audit-bench-"))
        self.copies = []
        for s in suites:
            dst = self.root / s.parent.name
            shutil.copytree(s, dst, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
            self.copies.append(dst)
        # the sandbox's interpreter is a plain Debian python3; prefer one like it (not a shim)
        self.python = "/usr/bin/python3" if _has_pytest("/usr/bin/python3") else sys.executable

    def run(self, audit: bool) -> list[tuple[int, str]]:
        out = []
        for ws in self.copies:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root), "LANG": "C.UTF-8",
                   "PYTHONDONTWRITEBYTECODE": "1", "OURO_WORKSPACE": str(ws)}
            if audit:
                env.update(PYTHONPATH=str(BOOT), OURO_AUDIT="1")
            p = subprocess.run([self.python, *PYTEST], cwd=ws, env=env, capture_output=True, text=True, timeout=600)
            out.append((p.returncode, _summary(p.stdout)))
        return out

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


class SandboxRunner:
    """One sandbox per side (hook on / off), the suites copied in side by side."""

    def __init__(self, suites: list[Path], backend: str):
        from ouro.sandbox.backends import open_sandbox
        from ouro.sandbox.policy import load_policy

        self.root = Path(tempfile.mkdtemp(prefix="ouro-audit-bench-"))
        for s in suites:
            shutil.copytree(s, self.root / s.parent.name, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        self.names = [s.parent.name for s in suites]
        policy = load_policy().with_backend(backend)
        self.boxes = {audit: open_sandbox(policy, "bench", workspace=self.root, audit=audit) for audit in (True, False)}

    def run(self, audit: bool) -> list[tuple[int, str]]:
        sb = self.boxes[audit]
        out = []
        for name in self.names:
            r = sb.exec([sb.python, *PYTEST], cwd=f"{sb.workspace}/{name}", timeout=600)
            out.append((r.exit_code, _summary(r.stdout)))
        return out

    def close(self):
        for sb in self.boxes.values():
            sb.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _child_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _has_pytest(python: str) -> bool:
    try:
        return subprocess.run([python, "-c", "import pytest"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _summary(stdout: str) -> str:
    """pytest's counts ("3 failed, 14 passed"), without the timing."""
    lines = [l for l in stdout.strip().splitlines() if re.search(r"\d+ (passed|failed|error)", l)]
    return re.sub(r" in [\d.]+s.*", "", lines[-1]).strip("= ") if lines else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="plain", choices=("plain", "bwrap", "docker", "gvisor"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repos", help="comma-separated repo names (default: all bundled)")
    args = ap.parse_args()
    if args.rounds < 1:
        sys.exit("audit_overhead: --rounds must be at least 1")
    suites = find_suites([x for x in (args.repos or "").split(",") if x] or None)
    runner = PlainRunner(suites) if args.backend == "plain" else SandboxRunner(suites, args.backend)
    times = {True: [], False: []}
    cpu = {True: [], False: []}
    try:
        runner.run(True), runner.run(False)  # warm caches for both sides
        for i in range(args.rounds):
            for audit in ((True, False) if i % 2 == 0 else (False, True)):
                t0, c0 = time.perf_counter(), _child_cpu()
                results = runner.run(audit)
                times[audit].append(time.perf_counter() - t0)
                cpu[audit].append(_child_cpu() - c0)
                if audit:
                    on_results = results
                else:
                    off_results = results
            if on_results != off_results:
                print(f"audit_overhead: the hook changed the outcome: on={on_results} off={off_results}", file=sys.stderr)
                return 1
    finally:
        runner.close()
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(f"backend {args.backend}: {len(suites)} suites ({', '.join(s.parent.name for s in suites)}), {args.rounds} rounds")
    print(f"{'audit':6} {'median s':>9} {'cpu s':>7}  rounds (wall s)")
    for label, audit in (("on", True), ("off", False)):
        print(f"{label:6} {statistics.median(times[audit]):9.3f} {statistics.median(cpu[audit]):7.3f}  "
              f"{' '.join(f'{t:.2f}' for t in times[audit])}")
    if args.backend == "plain":
        print(f"cpu-time ratio (children's user+sys, robust to a loaded machine): "
              f"{statistics.median(cpu[True]) / statistics.median(cpu[False]):.3f}")
    print(f"outcomes (same on both sides): {'; '.join(f'{s.parent.name}: {r[1]}' for s, r in zip(suites, on_results))}")
    print(f"RESULT audit_on_s={on:.3f} audit_off_s={off:.3f} audit_ratio={on / off:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

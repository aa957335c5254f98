"""How long does validating one candidate patch take? Four ways, side by side, in one run.

    python bench/sandbox_latency.py [--repo repos/minicalc] [--rounds 10]

On a bundled repository (its repo/ tree, with the reference fix from solution.diff as the
candidate), the median wall time from "here is a candidate" to "here are its per-test results":
  plain      a plain unsandboxed `python -m pytest` subprocess on the host (a temp copy)
  docker_run a fresh hardened container per candidate: start, copy in, run tests, remove
  warm       the warm pool on Docker: one container, a worker with pytest pre-imported that
             forks a fresh child per candidate (sandbox.testrun.WarmWorker)
  bwrap      a fresh bubblewrap namespace per candidate (sandbox.testrun.run_tests_cold)
and, for the record, bwrap_warm: the same warm worker inside one bwrap sandbox.
Every method must report the candidate's tests as all passing, or the bench fails: a fast
wrong answer is not a result. Last line: RESULT plain_s=… docker_run_s=… warm_s=… bwrap_s=…
(medians in seconds), then bwrap_warm_s and the two ratios the bar is about.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def candidate_files(task_dir: Path) -> tuple[Path, dict[str, bytes]]:
    """The repo tree and the files the reference fix changes, with their fixed content."""
    repo = task_dir / "repo"
    work = Path(tempfile.mkdtemp(prefix="ouro-bench-patch-"))
    shutil.copytree(repo, work / "r")
    subprocess.run(["patch", "-s", "-p1", "-d", str(work / "r"), "-i", str(task_dir / "solution.diff")],
                   check=True)
    changed = {}
    for f in (work / "r").rglob("*"):
        if f.is_file():
            rel = f.relative_to(work / "r")
            orig = repo / rel
            if not orig.exists() or orig.read_bytes() != f.read_bytes():
                changed[str(rel)] = f.read_bytes()
    shutil.rmtree(work)
    return repo, changed


def test_args(task_dir: Path) -> list[str]:
    import shlex
    import tomllib

    cmd = tomllib.loads((task_dir / "task.toml").read_text())["task"].get("test_cmd", "python -m pytest -q tests")
    argv = shlex.split(cmd)
    return argv[argv.index("pytest") + 1:] if "pytest" in argv else ["-q"]


def measure(methods: dict, rounds: int) -> dict[str, list[float]]:
    """Wall times per method. Rounds are interleaved (a, b, c, d, a, b, ...) so the noise of a
    shared machine falls on every method alike; each method is warmed up once first."""
    for name, fn in methods.items():
        if not fn():
            raise SystemExit(f"bench: {name} did not report the fix as passing")
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        for name, fn in methods.items():
            t = time.perf_counter()
            ok = fn()
            times[name].append(time.perf_counter() - t)
            if not ok:
                raise SystemExit(f"bench: {name} did not report the fix as passing")
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", default=str(ROOT / "repos" / "minicalc"), help="a bundled task directory")
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    task = Path(args.repo).resolve()
    if not (task / "repo").is_dir() or not (task / "solution.diff").is_file():
        print(f"bench: {task} is not a bundled task (needs repo/ and solution.diff)", file=sys.stderr)
        return 2

    from ouro.sandbox import images
    from ouro.sandbox.bwrap_backend import BwrapSandbox
    from ouro.sandbox.docker_backend import DockerSandbox
    from ouro.sandbox.policy import load_policy
    from ouro.sandbox.testrun import WarmWorker, run_tests_cold

    repo, changed = candidate_files(task)
    pargs = test_args(task)
    env = images.ensure_env(repo)
    bwrap_env = images.ensure_env(repo, backend="bwrap")
    policy = load_policy().with_limits(wall_time_s=120.0)
    print(f"task {task.name}: candidate changes {sorted(changed)}; pytest {' '.join(pargs)}; image {env.image}")

    plain_dir = Path(tempfile.mkdtemp(prefix="ouro-bench-plain-"))
    shutil.copytree(repo, plain_dir / "r")
    for rel, data in changed.items():
        (plain_dir / "r" / rel).write_bytes(data)

    def plain():
        p = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *pargs],
                           cwd=plain_dir / "r", capture_output=True, env={"PATH": "/usr/bin:/bin",
                                                                        "PYTHONDONTWRITEBYTECODE": "1"})
        return p.returncode == 0

    docker_policy = policy.with_backend("docker")

    def docker_run():
        sb = DockerSandbox.start(docker_policy, workspace=repo, env=env, audit=False)
        try:
            sb.write_files(changed)
            return run_tests_cold(sb, pargs, 120).all_passed
        finally:
            sb.close()

    warm_sb = DockerSandbox.start(docker_policy, workspace=repo, env=env, audit=False)
    worker = WarmWorker(warm_sb)

    def warm():
        return worker.run(changed, pargs, 120).all_passed

    bw = BwrapSandbox.start(policy.with_backend("bwrap"), workspace=repo, audit=False, env=bwrap_env)
    bw.write_files(changed)

    def bwrap():
        return run_tests_cold(bw, pargs, 120).all_passed

    # not one of the four compared: the warm worker inside bwrap, for the record
    bw_warm_sb = BwrapSandbox.start(policy.with_backend("bwrap"), workspace=repo, audit=False, env=bwrap_env)
    bw_worker = WarmWorker(bw_warm_sb)

    def bwrap_warm():
        return bw_worker.run(changed, pargs, 120).all_passed

    methods = {"plain": plain, "docker_run": docker_run, "warm": warm, "bwrap": bwrap, "bwrap_warm": bwrap_warm}
    try:
        times = measure(methods, args.rounds)
    finally:
        for closer in (worker.close, warm_sb.close, bw.close, bw_worker.close, bw_warm_sb.close):
            closer()
        shutil.rmtree(plain_dir, ignore_errors=True)
    results = {}
    for name, ts in times.items():
        results[name] = statistics.median(ts)
        print(f"{name:11s} median {results[name]:.3f}s  min {min(ts):.3f}s  max {max(ts):.3f}s  (n={len(ts)})")
    speed_vs_plain = results["plain"] / results["warm"]
    speed_vs_docker = results["docker_run"] / results["warm"]
    print(f"warm pool: {speed_vs_plain:.1f}x faster than plain pytest (bar: >1), "
          f"{speed_vs_docker:.1f}x faster than docker run (bar: >=5)")
    print(f"RESULT plain_s={results['plain']:.4f} docker_run_s={results['docker_run']:.4f} "
          f"warm_s={results['warm']:.4f} bwrap_s={results['bwrap']:.4f} "
          f"bwrap_warm_s={results['bwrap_warm']:.4f} "
          f"warm_vs_plain_x={speed_vs_plain:.2f} docker_run_vs_warm_x={speed_vs_docker:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ranker inference cost on this CPU: milliseconds per batch of 64 candidate edits.

    python bench/ranker_speed.py [--checkpoint PATH] [--repeats 200]

Scores real candidates (the templates applied to a bundled repository's source), batched as
the built-in policy batches them. Last line: RESULT ms_per_batch64=<median ms>
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample_features(n: int = 64):
    from agent.templates import generate
    from improvers.learn.features import EditFeatures

    feats = []
    for path in sorted((ROOT / "repos").glob("*/repo/**/*.py")):
        if "test" in path.name:
            continue
        src = path.read_text()
        lines = src.splitlines()
        for c in generate(path.name, src, list(range(1, len(lines) + 1))):
            feats.append(EditFeatures(c.template, c.before, c.after, lines[c.line - 1].strip(), 0.5, 3))
            if len(feats) == n:
                return feats
    return (feats * (n // max(1, len(feats)) + 1))[:n]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args(argv)
    from improvers.learn.adapter import BUNDLED
    from improvers.learn.ranker import Ranker

    ranker = Ranker.load(args.checkpoint or BUNDLED)
    feats = sample_features(64)
    for _ in range(10):
        ranker.score(feats)  # warm-up: first calls allocate
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ranker.score(feats)
        times.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(times)
    print(f"batch of {len(feats)} candidates: median {med:.3f} ms, p90 {sorted(times)[int(0.9 * len(times))]:.3f} ms "
          f"over {args.repeats} runs (bar: 5 ms)")
    print(f"RESULT ms_per_batch64={med:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

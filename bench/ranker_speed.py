"""Ranker inference cost on this CPU: milliseconds per batch of 64 candidate edits.

    python bench/ranker_speed.py [--checkpoint PATH] [--repeats 200]

Scores real candidates (the templates applied to a bundled repository's source) through the
built-in policy's ranker hook, as the policy calls it: features (the signals of what each edit
does to its function's names, and tokens when the checkpoint reads them) plus the model.
Last line: RESULT ms_per_batch64=<median ms>
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sample_candidates(n: int = 64):
    """n candidates from the first bundled source file that offers them, and the hook's context."""
    from ouro.agent.policies.base import RankContext
    from ouro.agent.templates import generate

    for path in sorted((ROOT / "repos").glob("*/repo/**/*.py")):
        if "test" in path.name:
            continue
        src = path.read_text()
        cands = generate(path.name, src, list(range(1, len(src.splitlines()) + 1)))
        if len(cands) >= n:
            return cands[:n], RankContext(issue="", base_files={path.name: src}, node_files={},
                                          target_tests=[], localization=None)
    raise SystemExit("no bundled source file offers enough candidates")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args(argv)
    from ouro.improvers.learn.adapter import BUNDLED, LearnedRanker
    from ouro.improvers.learn.features import tagged_ids

    ranker = LearnedRanker(args.checkpoint or BUNDLED)
    cands, context = sample_candidates(64)
    for _ in range(10):
        ranker(cands, context)  # warm-up: first calls allocate
    times = []
    for _ in range(args.repeats):
        tagged_ids.cache_clear()  # no help from the previous repeat: each batch pays for its own tokens
        t0 = time.perf_counter()
        ranker(cands, context)
        times.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(times)
    print(f"batch of {len(cands)} candidates: median {med:.3f} ms, p90 {sorted(times)[int(0.9 * len(times))]:.3f} ms "
          f"over {args.repeats} runs (bar: 5 ms)")
    print(f"RESULT ms_per_batch64={med:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

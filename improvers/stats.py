"""Means and 95% confidence intervals over seeds (Student's t; stdlib only)."""
from __future__ import annotations

import math
from statistics import mean, stdev

# two-sided 95% critical values of Student's t by degrees of freedom
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042, 60: 2.000}


def t95(df: int) -> float:
    if df <= 0:
        return math.inf
    best = max(k for k in _T95 if k <= df) if df < 120 else None
    return _T95[best] if best else 1.96


def mean_ci(values: list[float], lo: float = -math.inf, hi: float = math.inf) -> tuple[float, float, float]:
    """(mean, low, high) of a 95% confidence interval for the mean, clipped to [lo, hi] (a
    utility's CI never leaves [0, 1]); a single value has no width."""
    if not values:
        return 0.0, 0.0, 0.0
    m = mean(values)
    if len(values) < 2:
        return m, m, m
    half = t95(len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return m, max(lo, m - half), min(hi, m + half)


def bootstrap_ci(values: list[float], *, resamples: int = 10_000, seed: int = 0,
                 confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): a percentile bootstrap interval for the mean, resampling the values
    (tasks) with replacement; seeded, so a report is reproducible. Assumes nothing about the
    shape of the values (fix rates are 0/1, candidate counts are skewed)."""
    if not values:
        return 0.0, 0.0, 0.0
    import random

    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    tail = (1.0 - confidence) / 2
    lo = means[int(tail * resamples)]
    hi = means[min(resamples - 1, int((1.0 - tail) * resamples))]
    return mean(values), lo, hi


def paired_bootstrap(before: list[float], after: list[float], **kw) -> tuple[float, float, float]:
    """(mean of after - before, low, high): the bootstrap interval of a paired difference (the
    same tasks measured twice, resampled as pairs, so what the tasks share cancels out)."""
    if len(before) != len(after):
        raise ValueError("paired samples must have the same length")
    return bootstrap_ci([b - a for a, b in zip(before, after)], **kw)

"""Descriptive statistics of sequences of numbers."""
import math


def _require(values, at_least=1):
    values = list(values)
    if len(values) < at_least:
        raise ValueError(f"need at least {at_least} values, got {len(values)}")
    return values


def mean(values):
    values = _require(values)
    return sum(values) / len(values)


def median(values):
    values = sorted(_require(values))
    mid = len(values) // 2
    if len(values) % 2:
        return values[mid]
    return (values[mid - 1] + values[mid]) / 2


def variance(values, sample=True):
    values = _require(values, 2 if sample else 1)
    mu = mean(values)
    return sum((v - mu) ** 2 for v in values) / (len(values) - (1 if sample else 0))


def stdev(values, sample=True):
    return math.sqrt(variance(values, sample))


def covariance(xs, ys, sample=True):
    xs, ys = _require(xs, 2), _require(ys, 2)
    if len(xs) != len(ys):
        raise ValueError("sequences differ in length")
    mx, my = mean(xs), mean(ys)
    total = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    return total / (len(xs) - (1 if sample else 0))


def correlation(xs, ys):
    return covariance(xs, ys) / (stdev(xs) * stdev(ys))

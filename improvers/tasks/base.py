"""What an improvement task is: inputs the program sees, a utility only the host computes.

A task generates instances from a seed. Each instance has a public part (handed to the
program inside the sandbox as keyword arguments of `algorithm(...)`) and a private part
(for example the labels of a held-back test set) that never leaves the host. The utility of
a program is the mean of `score_one` over the instances, computed on the host from what the
program returned, so a program can never score itself.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any


class InvalidOutput(ValueError):
    """The program's output does not have the shape the task asks for."""


# Output keys that only make sense as an attempt to report a score instead of an answer.
SCORE_LIKE_KEYS = frozenset({"score", "utility", "accuracy", "fitness", "reward", "value_claimed"})


@dataclass
class Instance:
    public: dict          # keyword arguments of algorithm(...), JSON-serializable
    private: Any = None   # host-only data for scoring


class Task:
    """Subclasses set the class attributes and implement generate/score_one."""

    name: str = ""
    description: str = ""        # shown to the model, next to the program
    initial_solution: str = ""   # a deliberately weak program defining algorithm(...)
    n_instances: int = 3         # instances per utility evaluation (batched into one sandbox exec)
    utility_budget: int = 12     # utility calls one improver run may make
    timeout_s: float = 20.0      # wall-clock limit for one program on all instances

    def generate(self, rng: random.Random) -> Instance:
        raise NotImplementedError

    def score_one(self, inst: Instance, output: Any) -> float:
        raise NotImplementedError

    def instances(self, seed: int, n: int | None = None) -> list[Instance]:
        rng = random.Random(f"{self.name}:{seed}")
        return [self.generate(rng) for _ in range(n or self.n_instances)]

    def utility_text(self) -> str:
        """The score function as the improver sees it (STOP shows the model the utility)."""
        return (f"# task: {self.name}\n# {self.description}\n"
                f"# utility = mean over {self.n_instances} fresh instances of a per-instance score in [0, 1],\n"
                f"# computed by the host from what algorithm(...) returns; {self.timeout_s:.0f}s per evaluation.")


def check_score(value: float) -> float:
    """A per-instance score must be a finite number in [0, 1]; anything else is a bug or an attack."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidOutput(f"score {value!r} outside [0, 1]")
    return float(value)


def as_int_list(output: Any, length: int, allowed: set[int] | None = None, what: str = "output") -> list[int]:
    if isinstance(output, dict) and SCORE_LIKE_KEYS & set(output):
        raise InvalidOutput(f"{what} reports a score ({', '.join(sorted(SCORE_LIKE_KEYS & set(output)))}) instead of an answer")
    if not isinstance(output, list) or len(output) != length:
        raise InvalidOutput(f"{what} must be a list of {length} integers")
    out = []
    for v in output:
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidOutput(f"{what} must contain integers, got {type(v).__name__}")
        if allowed is not None and v not in allowed:
            raise InvalidOutput(f"{what} value {v!r} not in {sorted(allowed)}")
        out.append(v)
    return out

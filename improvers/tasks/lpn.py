"""Learning parity with noise, as in STOP: recover a sparse parity from noisy labelled bits.

The program sees the noisy training set and the test inputs; the test labels stay on the
host, and the utility is test accuracy.
"""
from __future__ import annotations

import random

from ouro.improvers.tasks.base import Instance, Task, as_int_list

INITIAL = '''import itertools


def algorithm(train_x, train_y, test_x):
    """Predict test labels of a noisy parity: try every subset of bits up to max_order
    and keep the one that agrees with the most training labels."""
    max_order = 1
    n_bits = len(train_x[0])
    best, best_err = (), len(train_y)
    for k in range(max_order + 1):
        for subset in itertools.combinations(range(n_bits), k):
            err = sum((sum(x[i] for i in subset) % 2) != y for x, y in zip(train_x, train_y))
            if err < best_err:
                best, best_err = subset, err
    return [sum(x[i] for i in best) % 2 for x in test_x]
'''


class LearningParityWithNoise(Task):
    name = "lpn"
    description = ("Learning parity with noise: labels are the XOR of an unknown small subset of the "
                   "input bits, flipped with probability 0.05. algorithm(train_x, train_y, test_x) "
                   "returns one 0/1 prediction per test input; the score is test accuracy.")
    initial_solution = INITIAL
    n_bits, secret_size, noise, n_train, n_test = 10, 2, 0.05, 80, 100

    def generate(self, rng: random.Random) -> Instance:
        secret = rng.sample(range(self.n_bits), self.secret_size)

        def sample(noisy: bool):
            x = [rng.randint(0, 1) for _ in range(self.n_bits)]
            y = sum(x[i] for i in secret) % 2
            if noisy and rng.random() < self.noise:
                y ^= 1
            return x, y

        train = [sample(True) for _ in range(self.n_train)]
        test = [sample(False) for _ in range(self.n_test)]
        return Instance(public={"train_x": [x for x, _ in train], "train_y": [y for _, y in train],
                                "test_x": [x for x, _ in test]},
                        private=[y for _, y in test])

    def score_one(self, inst: Instance, output) -> float:
        preds = as_int_list(output, len(inst.private), {0, 1}, "predictions")
        return sum(p == y for p, y in zip(preds, inst.private)) / len(preds)

"""0/1 knapsack (held-out task): pick items of highest value within a weight capacity."""
from __future__ import annotations

import random

from ouro.improvers.tasks.base import Instance, InvalidOutput, Task, as_int_list

INITIAL = '''def algorithm(values, weights, capacity):
    """Return a 0/1 choice per item: greedy by value / weight ** ratio_power."""
    ratio_power = 0
    order = sorted(range(len(values)), key=lambda i: -values[i] / weights[i] ** ratio_power)
    take = [0] * len(values)
    room = capacity
    for i in order:
        if weights[i] <= room:
            take[i] = 1
            room -= weights[i]
    return take
'''


class Knapsack(Task):
    name = "knapsack"
    n_items = 25
    description = (f"0/1 knapsack of {n_items} items. algorithm(values, weights, capacity) returns a 0/1 choice per "
                   "item with total weight <= capacity; the score is the chosen value divided by the optimum.")
    initial_solution = INITIAL

    def generate(self, rng: random.Random) -> Instance:
        weights = [rng.randint(1, 30) for _ in range(self.n_items)]
        values = [max(1, w + rng.randint(-10, 25)) for w in weights]
        capacity = sum(weights) // 3
        # the optimum by dynamic programming over capacity, kept on the host
        best = [0] * (capacity + 1)
        for v, w in zip(values, weights):
            for c in range(capacity, w - 1, -1):
                best[c] = max(best[c], best[c - w] + v)
        return Instance(public={"values": values, "weights": weights, "capacity": capacity}, private=best[capacity])

    def score_one(self, inst: Instance, output) -> float:
        p = inst.public
        take = as_int_list(output, len(p["values"]), {0, 1}, "choices")
        if sum(w for w, t in zip(p["weights"], take) if t) > p["capacity"]:
            raise InvalidOutput("chosen items exceed the capacity")
        return sum(v for v, t in zip(p["values"], take) if t) / inst.private

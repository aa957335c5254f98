"""Euclidean travelling salesman (held-out task): a short closed tour through all cities."""
from __future__ import annotations

import math
import random

from ouro.improvers.tasks.base import Instance, InvalidOutput, Task, as_int_list

INITIAL = '''import math


def algorithm(cities):
    """Return a permutation of city indices: the given order, then two_opt_passes of 2-opt."""
    tour = list(range(len(cities)))
    two_opt_passes = 0

    def d(a, b):
        return math.dist(cities[a], cities[b])

    n = len(tour)
    for _ in range(two_opt_passes):
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                a, b, c, e = tour[i - 1], tour[i], tour[j], tour[(j + 1) % n]
                if d(a, c) + d(b, e) < d(a, b) + d(c, e):
                    tour[i:j + 1] = reversed(tour[i:j + 1])
    return tour
'''


def _tour_length(cities, tour) -> float:
    return sum(math.dist(cities[tour[i]], cities[tour[(i + 1) % len(tour)]]) for i in range(len(tour)))


def _mst_weight(cities) -> float:
    # Prim's algorithm; a spanning tree is never longer than the optimal tour, so score <= 1.
    n = len(cities)
    dist = [math.inf] * n
    dist[0], done, total = 0.0, [False] * n, 0.0
    for _ in range(n):
        v = min((i for i in range(n) if not done[i]), key=dist.__getitem__)
        done[v] = True
        total += dist[v]
        for u in range(n):
            if not done[u]:
                dist[u] = min(dist[u], math.dist(cities[u], cities[v]))
    return total


class Tsp(Task):
    name = "tsp"
    n_cities = 30
    description = (f"Euclidean TSP on {n_cities} cities in a 100 x 100 square. algorithm(cities) gets [x, y] points "
                   "and returns a permutation of their indices (a closed tour); the score is the minimum spanning "
                   "tree length divided by the tour length.")
    initial_solution = INITIAL

    def generate(self, rng: random.Random) -> Instance:
        cities = [[round(rng.random() * 100, 2), round(rng.random() * 100, 2)] for _ in range(self.n_cities)]
        return Instance(public={"cities": cities}, private=_mst_weight(cities))

    def score_one(self, inst: Instance, output) -> float:
        cities = inst.public["cities"]
        tour = as_int_list(output, len(cities), None, "tour")
        if sorted(tour) != list(range(len(cities))):
            raise InvalidOutput("tour is not a permutation of the cities")
        return inst.private / _tour_length(cities, tour)

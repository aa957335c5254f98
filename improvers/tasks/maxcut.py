"""Weighted max-cut: split the nodes of a graph in two to cut as much edge weight as possible."""
from __future__ import annotations

import random

from ouro.improvers.tasks.base import Instance, Task, as_int_list

INITIAL = '''import random


def algorithm(n_nodes, edges, seed):
    """Return a side (0 or 1) per node: a random split, then n_passes of single-node moves."""
    rng = random.Random(seed)
    side = [rng.randint(0, 1) for _ in range(n_nodes)]
    n_passes = 0
    adj = [[] for _ in range(n_nodes)]
    for a, b, w in edges:
        adj[a].append((b, w))
        adj[b].append((a, w))
    for _ in range(n_passes):
        for v in range(n_nodes):
            gain = sum(w if side[u] == side[v] else -w for u, w in adj[v])
            if gain > 0:
                side[v] ^= 1
    return side
'''


class MaxCut(Task):
    name = "maxcut"
    n_nodes, p_edge = 30, 0.25
    description = (f"Weighted max-cut on G({n_nodes}, {p_edge}) graphs, edges [a, b, weight]. algorithm(n_nodes, "
                   "edges, seed) returns a side in {0, 1} per node; the score is the cut over the total weight.")
    initial_solution = INITIAL

    def generate(self, rng: random.Random) -> Instance:
        edges = [[a, b, rng.randint(1, 10)] for a in range(self.n_nodes) for b in range(a + 1, self.n_nodes)
                 if rng.random() < self.p_edge]
        return Instance(public={"n_nodes": self.n_nodes, "edges": edges, "seed": rng.randrange(2**31)})

    def score_one(self, inst: Instance, output) -> float:
        side = as_int_list(output, inst.public["n_nodes"], {0, 1}, "sides")
        edges = inst.public["edges"]
        total = sum(w for _, _, w in edges) or 1
        return sum(w for a, b, w in edges if side[a] != side[b]) / total

"""Makespan scheduling: assign jobs to identical machines so the last one finishes early."""
from __future__ import annotations

import random

from ouro.improvers.tasks.base import Instance, Task, as_int_list

INITIAL = '''def algorithm(durations, n_machines):
    """Return a machine index per job: round robin in the given order."""
    greedy = False
    sort_longest_first = False
    order = list(range(len(durations)))
    if sort_longest_first:
        order.sort(key=lambda j: -durations[j])
    load = [0] * n_machines
    machine_of = [0] * len(durations)
    for i, j in enumerate(order):
        m = load.index(min(load)) if greedy else i % n_machines
        machine_of[j] = m
        load[m] += durations[j]
    return machine_of
'''


class Scheduling(Task):
    name = "sched"
    n_jobs, n_machines = 25, 4
    description = (f"Makespan scheduling of {n_jobs} jobs (short and long ones mixed) on {n_machines} identical "
                   "machines. algorithm(durations, n_machines) returns a machine index per job; the score is a lower "
                   "bound on the optimal makespan divided by the makespan.")
    initial_solution = INITIAL

    def generate(self, rng: random.Random) -> Instance:
        durations = [rng.choice([rng.randint(1, 10), rng.randint(20, 60)]) for _ in range(self.n_jobs)]
        return Instance(public={"durations": durations, "n_machines": self.n_machines})

    def score_one(self, inst: Instance, output) -> float:
        d, m = inst.public["durations"], inst.public["n_machines"]
        machine_of = as_int_list(output, len(d), set(range(m)), "machine indices")
        load = [0] * m
        for j, k in enumerate(machine_of):
            load[k] += d[j]
        bound = max(sum(d) / m, max(d))
        return bound / max(load)

"""Random 3-SAT near the hard ratio: satisfy as many clauses as possible."""
from __future__ import annotations

import random

from ouro.improvers.tasks.base import Instance, InvalidOutput, Task, as_int_list

INITIAL = '''import random


def algorithm(n_vars, clauses, seed):
    """Return one 0/1 value per variable; a short WalkSAT from a random start."""
    rng = random.Random(seed)
    assign = [rng.randint(0, 1) for _ in range(n_vars)]
    max_flips = 10
    p_random = 0.5

    def sat(clause):
        return any((assign[abs(l) - 1] == 1) == (l > 0) for l in clause)

    for _ in range(max_flips):
        unsat = [c for c in clauses if not sat(c)]
        if not unsat:
            break
        clause = rng.choice(unsat)
        if rng.random() < p_random:
            var = abs(rng.choice(clause)) - 1
        else:
            def broken(v):
                assign[v] ^= 1
                n = sum(not sat(c) for c in clauses)
                assign[v] ^= 1
                return n
            var = min((abs(l) - 1 for l in clause), key=broken)
        assign[var] ^= 1
    return assign
'''


class ThreeSat(Task):
    name = "sat3"
    description = ("MAX-3-SAT: clauses are lists of 3 non-zero ints (k means variable k is true, -k false). "
                   "algorithm(n_vars, clauses, seed) returns a list of n_vars values in {0, 1}; "
                   "the score is the fraction of clauses satisfied.")
    initial_solution = INITIAL
    n_vars, ratio = 40, 4.2

    def generate(self, rng: random.Random) -> Instance:
        m = int(self.n_vars * self.ratio)
        clauses = []
        for _ in range(m):
            vs = rng.sample(range(1, self.n_vars + 1), 3)
            clauses.append([v if rng.random() < 0.5 else -v for v in vs])
        return Instance(public={"n_vars": self.n_vars, "clauses": clauses, "seed": rng.randrange(2**31)})

    def score_one(self, inst: Instance, output) -> float:
        assign = as_int_list(output, inst.public["n_vars"], {0, 1}, "assignment")
        clauses = inst.public["clauses"]
        if not clauses:
            raise InvalidOutput("empty instance")
        ok = sum(any((assign[abs(l) - 1] == 1) == (l > 0) for l in c) for c in clauses)
        return ok / len(clauses)

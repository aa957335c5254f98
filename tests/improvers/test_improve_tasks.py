"""Improvement tasks: host-side utilities, and candidate programs run for real in bwrap."""
from __future__ import annotations

import pytest

from ouro.improvers.tasks import TASKS, InvalidOutput, get_task
from ouro.improvers.sandboxed import ProgramRunner

# one edit per task that any competent improver would find: the improved program must score higher
BETTER = {"lpn": ("max_order = 1", "max_order = 2"), "sat3": ("max_flips = 10", "max_flips = 200"),
          "maxcut": ("n_passes = 0", "n_passes = 3"), "sched": ("greedy = False", "greedy = True"),
          "knapsack": ("ratio_power = 0", "ratio_power = 1"), "tsp": ("two_opt_passes = 0", "two_opt_passes = 3")}


def test_at_least_four_training_and_two_heldout_tasks_exist():
    assert {"lpn", "sat3", "maxcut", "sched", "knapsack", "tsp"} <= set(TASKS)
    for name in TASKS:
        t = get_task(name)
        assert t.description and "algorithm(" in t.initial_solution and t.utility_budget > 0
        assert BETTER[name][0] in t.initial_solution


def test_instances_are_seeded_and_private_data_stays_private():
    t = get_task("lpn")
    a, b, c = t.instances(1), t.instances(1), t.instances(2)
    assert [i.public for i in a] == [i.public for i in b] and [i.public for i in a] != [i.public for i in c]
    assert "test_y" not in a[0].public and len(a[0].private) == len(a[0].public["test_x"])


@pytest.mark.parametrize("output", [{"accuracy": 1.7}, [2] * 100, [0] * 99, "0101", [True] * 100, None])
def test_malformed_or_score_shaped_outputs_are_refused(output):
    inst = get_task("lpn").instances(0)[0]
    with pytest.raises(InvalidOutput):
        get_task("lpn").score_one(inst, output)


def test_scores_are_exact_on_known_answers():
    lpn = get_task("lpn")
    inst = lpn.instances(0)[0]
    assert lpn.score_one(inst, list(inst.private)) == 1.0
    assert lpn.score_one(inst, [1 - y for y in inst.private]) == 0.0
    ks = get_task("knapsack")
    inst = ks.instances(0)[0]
    with pytest.raises(InvalidOutput):
        ks.score_one(inst, [1] * len(inst.public["values"]))  # over capacity


@pytest.mark.bwrap
def test_programs_run_in_the_sandbox_and_better_programs_score_higher(bwrap_spec):
    runner = ProgramRunner(bwrap_spec)
    try:
        for name, (old, new) in BETTER.items():
            task = get_task(name)
            inst = task.instances(7)
            base = runner.evaluate(task, task.initial_solution, inst)
            better = runner.evaluate(task, task.initial_solution.replace(old, new), inst)
            assert not base.errors and not better.errors, (name, base.errors, better.errors)
            assert 0.0 <= base.score < better.score <= 1.0, (name, base.score, better.score)
    finally:
        runner.close()


@pytest.mark.bwrap
def test_a_program_that_claims_a_score_or_exits_early_gets_nothing(bwrap_spec):
    runner = ProgramRunner(bwrap_spec)
    task = get_task("lpn")
    inst = task.instances(0)
    try:
        claim = runner.evaluate(task, "def algorithm(train_x, train_y, test_x):\n    return {'accuracy': 1.7}\n", inst)
        assert claim.score == 0.0 and [v.kind for v in claim.violations] == ["score_inflation"] * len(inst)
        # os._exit(0) before any output is written: no results file, so no score
        exits = runner.evaluate(task, "import os\ndef algorithm(train_x, train_y, test_x):\n    os._exit(0)\n", inst)
        assert exits.score == 0.0 and "no results" in exits.errors[0]
        # the program cannot read the host's labels: it only has what the runner gave it
        peek = runner.evaluate(task, "def algorithm(**kw):\n    return sorted(kw)\n", inst)
        assert "invalid output" in peek.errors[0]
        # a program that prints a fake perfect result still gets its real (chance-level) score
        fake = ("import json\ndef algorithm(train_x, train_y, test_x):\n"
                "    print(json.dumps([{'ok': True, 'output': [0] * len(test_x)}]))\n    return [0] * len(test_x)\n")
        assert runner.evaluate(task, fake, inst).score < 0.7
    finally:
        runner.close()

"""The improvement tasks, by name. Training tasks drive the meta-utility; held-out tasks only
measure transfer (which tasks play which role is set per experiment in its TOML config)."""
from __future__ import annotations

from ouro.improvers.tasks.base import Instance, InvalidOutput, Task
from ouro.improvers.tasks.knapsack import Knapsack
from ouro.improvers.tasks.lpn import LearningParityWithNoise
from ouro.improvers.tasks.maxcut import MaxCut
from ouro.improvers.tasks.sat import ThreeSat
from ouro.improvers.tasks.sched import Scheduling
from ouro.improvers.tasks.tsp import Tsp

TASKS: dict[str, type[Task]] = {t.name: t for t in (LearningParityWithNoise, ThreeSat, MaxCut, Scheduling, Knapsack, Tsp)}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]()
    except KeyError:
        raise KeyError(f"unknown task {name!r} (known: {', '.join(TASKS)})") from None


__all__ = ["TASKS", "get_task", "Task", "Instance", "InvalidOutput"]

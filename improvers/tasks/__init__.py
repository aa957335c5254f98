"""The improvement tasks, by name. Training tasks drive the meta-utility; held-out tasks only
measure transfer (which tasks play which role is set per experiment in its TOML config)."""
from __future__ import annotations

from improvers.tasks.base import Instance, InvalidOutput, Task
from improvers.tasks.knapsack import Knapsack
from improvers.tasks.lpn import LearningParityWithNoise
from improvers.tasks.maxcut import MaxCut
from improvers.tasks.sat import ThreeSat
from improvers.tasks.sched import Scheduling
from improvers.tasks.tsp import Tsp

TASKS: dict[str, type[Task]] = {t.name: t for t in (LearningParityWithNoise, ThreeSat, MaxCut, Scheduling, Knapsack, Tsp)}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]()
    except KeyError:
        raise KeyError(f"unknown task {name!r} (known: {', '.join(TASKS)})") from None


__all__ = ["TASKS", "get_task", "Task", "Instance", "InvalidOutput"]

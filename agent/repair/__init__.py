"""The repair API: one call from a repository and an issue to a validated patch.

    outcome = run_repair(RepairConfig(repo=Path("myproj"), issue="..."))

The package is split by job: `config` (what to do, and how it is kept for --resume),
`session` (the sandbox a repair runs its tests in), `audit` (what the audit log gets),
`pipeline` (reproduce, localize, search, discriminate) and `render` (explanation.md).
"""
from ouro.agent.repair.config import RepairConfig, RepairOutcome, new_run_id
from ouro.agent.repair.pipeline import RepairRun, run_repair

__all__ = ["RepairConfig", "RepairOutcome", "RepairRun", "new_run_id", "run_repair"]

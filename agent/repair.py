"""The repair API: one call from a repository and an issue to a validated patch.

    outcome = run_repair(RepairConfig(repo=Path("myproj"), issue="..."))

The pipeline (DESIGN.md section 3): Workspace (a copy under the run dir) -> Environment
(sandbox image) -> Reproduce (failing tests) -> Localize (ranked lines) -> Search (MCTS over
policy proposals, each validated in the sandbox) -> Discriminator -> Result files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


@dataclass
class RepairConfig:
    repo: Path                          # the user's repository (a git repo or a plain directory)
    issue: str = ""                     # the issue text (from --issue or --issue-file)
    test_cmd: str | None = None         # default: the task's, else "python -m pytest"
    policy: str = "builtin"             # builtin | litellm:<model> | local:<path>
    budget: int = 300                   # most candidate patches validated in the sandbox
    time_limit: float = 900.0           # seconds for the whole search
    backend: str | None = None          # None: the policy file's backend (docker by default)
    seed: int = 0
    home: Path | None = None            # .ouro directory (default ./.ouro or $OURO_HOME)
    run_id: str | None = None           # default: a fresh id
    run_dir: Path | None = None         # default: <home>/runs/<run_id>
    resume: bool = False                # continue run_id, reusing every validation it cached
    allow_dirty: bool = False
    apply: bool = False                 # make branch ouro/<run-id> with one commit in the user's repo
    unsafe_local: bool = False          # required for backend "local"
    policy_file: Path | None = None     # sandbox policy TOML (default: bundled policies.toml)
    test_timeout: float | None = None   # one full test run (default: the policy's wall_time_s)
    max_plausible: int = 3              # keep searching until this many plausible patches
    audit: bool = True
    llm_options: dict = field(default_factory=dict)  # passed to non-builtin policies


@dataclass
class RepairOutcome:
    run_id: str
    run_dir: Path
    status: str                          # plausible | not_found | error
    patch: str | None
    explanation: str
    candidates_validated: int
    candidates_to_first_plausible: int | None
    seconds: float
    tokens: int = 0
    cost: float = 0.0
    branch: str | None = None            # set by apply
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id, "run_dir": str(self.run_dir), "status": self.status,
            "patch": self.patch, "explanation": self.explanation,
            "candidates_validated": self.candidates_validated,
            "candidates_to_first_plausible": self.candidates_to_first_plausible,
            "seconds": round(self.seconds, 3), "tokens": self.tokens, "cost": self.cost,
            "branch": self.branch, "error": self.error,
        }


Progress = Callable[[dict], None]


def run_repair(config: RepairConfig, progress: Progress | None = None) -> RepairOutcome:
    """Repair config.repo; progress (if given) receives a dict after every validated candidate."""
    from agent.pipeline import RepairRun

    return RepairRun(config, progress).execute()

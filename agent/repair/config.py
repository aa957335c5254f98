"""What a repair is asked to do (RepairConfig), what it produced (RepairOutcome), and how a
config is kept in the run directory so `--resume RUN_ID` needs nothing else.

Which fields are kept is read from the dataclass itself (`dataclasses.fields`): a field is
saved unless its metadata says `saved=False` (where the run lives, whether this invocation
resumes or applies). Defaults are written once, here and in agent.search.SearchConfig; the
command line reads them from these dataclasses.
"""
from __future__ import annotations

import dataclasses
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from ouro.agent.search import SearchConfig
from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.core.files import atomic_write_json

STATE_FILE = "state.json"


def _local(default=None, **kw):
    """A field of this invocation only, not saved with the run."""
    return field(default=default, metadata={"saved": False}, **kw)


@dataclass
class RepairConfig:
    repo: Path                          # the user's repository (a git repo or a plain directory)
    issue: str = ""                     # the issue text (from --issue or --issue-file)
    test_cmd: str | None = None         # default: the task's, else "python -m pytest"
    policy: str = "builtin"             # builtin | litellm:<model> | local:<path> (the name; agent.cli.factories builds it)
    budget: int = SearchConfig.budget   # most candidate patches validated in the sandbox
    time_limit: float = SearchConfig.time_limit   # seconds for the whole run, reproduce and re-runs included
    backend: str | None = None          # None: the policy file's backend (docker by default)
    seed: int = 0
    allow_dirty: bool = False
    unsafe_local: bool = False          # required for backend "local"
    policy_file: Path | None = None     # sandbox policy TOML (default: the bundled policies.toml)
    test_timeout: float | None = None   # one full test run (default: the policy's wall_time_s)
    per_test_timeout: float | None = None   # one test in the reproduce run (default agent.testing.DEFAULT_TEST_TIMEOUT)
    pythonpath: list[str] | None = None  # workspace dirs on the tests' import path (None: detect a src/ layout)
    max_plausible: int = SearchConfig.max_plausible   # keep searching until this many plausible patches
    audit: bool = True
    oracles: bool = True                # check plausible patches against doctests and the issue's examples
    llm_options: dict = field(default_factory=dict)   # LLMPolicyOptions fields for model policies (plain values)
    ranker: str = "none"                # builtin policy's order: none (heuristic), auto, scaffold, or a checkpoint path
    search: dict = field(default_factory=dict)        # other SearchConfig fields (exploration, value weights...)
    localization: dict = field(default_factory=dict)  # agent.localize.LocalizationWeights fields (the signals' mix)
    python: str | None = None           # the sandbox's Python, X.Y (default: what the project declares)
    deps: list = field(default_factory=list)          # extra requirement strings for the sandbox environment
    image: str | None = None            # a Docker image holding the Python to use
    allow_external_deps: bool = False   # requirements outside the package index, built inside the sandbox
    home: Path | None = _local()        # .ouro directory (default ./.ouro or $OURO_HOME)
    run_id: str | None = _local()       # default: a fresh id
    run_dir: Path | None = _local()     # default: <home>/runs/<run_id>
    resume: bool = _local(False)        # continue run_id, reusing every validation it cached
    apply: bool = _local(False)         # make branch ouro/<run-id> with one commit in the user's repo

    def search_config(self) -> SearchConfig:
        """The search's configuration: this run's budget, time, stop rule and seed over
        `search` (a table of SearchConfig fields, validated like any configuration)."""
        from ouro.sandbox.core.schema import from_table

        base = from_table(SearchConfig, dict(self.search), "search")
        return dataclasses.replace(base, budget=self.budget, time_limit=self.time_limit,
                                   max_plausible=self.max_plausible, seed=self.seed)

    def localization_weights(self):
        """How localization mixes its signals: `localization` (a table of LocalizationWeights
        fields) over the defaults, validated like any configuration."""
        from ouro.agent.localize import LocalizationWeights
        from ouro.sandbox.core.schema import from_table

        return from_table(LocalizationWeights, dict(self.localization), "localization")

    def env_request(self):
        """What the sandbox's environment must be (sandbox.images.EnvRequest)."""
        from ouro.sandbox.images import EnvRequest

        return EnvRequest(python=self.python, deps=tuple(self.deps), image=self.image,
                          allow_external=self.allow_external_deps)

    def saved(self) -> dict:
        """The fields kept in state.json, as JSON values."""
        out = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("saved", True):
                value = getattr(self, f.name)
                out[f.name] = str(value) if isinstance(value, Path) else value
        return out

    def save(self, run_dir: Path) -> None:
        atomic_write_json(Path(run_dir) / STATE_FILE, {**self.saved(), "run_id": self.run_id})

    def restore(self, run_dir: Path) -> None:
        """Take the saved fields of the run in run_dir (for --resume)."""
        state_file = Path(run_dir) / STATE_FILE
        if not state_file.exists():
            raise BadInput(f"no run {self.run_id!r} to resume (no {state_file})")
        state = json.loads(state_file.read_text())
        for f in dataclasses.fields(self):
            if f.metadata.get("saved", True) and f.name in state:
                value = state[f.name]
                if value is not None and f.type in ("Path", "Path | None"):
                    value = Path(value)
                setattr(self, f.name, value)
        self.run_id = state["run_id"]
        self.run_dir = Path(run_dir)


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
    environment: dict | None = None      # the sandbox's Python and what it installed (images.Environment.summary)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["run_dir"] = str(self.run_dir)
        d["seconds"] = round(self.seconds, 3)
        return d


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)

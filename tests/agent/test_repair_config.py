"""The environment a repair asked for travels with its run: --resume rebuilds the same one."""
from __future__ import annotations

from pathlib import Path

from ouro.agent.repair.config import RepairConfig
from ouro.sandbox.images import EnvRequest


def test_environment_options_are_kept_for_resume(tmp_path):
    cfg = RepairConfig(repo=tmp_path, python="3.8", deps=["six==1.16.0", "attrs"], image="python:3.8-slim",
                       allow_external_deps=True, run_id="r1")
    cfg.save(tmp_path)
    back = RepairConfig(repo=Path("."), run_id="r1", resume=True)
    back.restore(tmp_path)
    assert back.env_request() == EnvRequest(python="3.8", deps=("six==1.16.0", "attrs"), image="python:3.8-slim",
                                            allow_external=True)
    assert RepairConfig(repo=tmp_path).env_request() == EnvRequest()

"""Names on the command line become objects here, and only here.

    --policy builtin | litellm:MODEL | local:DIR     -> an agent.policies.base.Policy
    --ranker none | auto | PATH                      -> the built-in policy's Ranker (or none)
    --ranker scaffold                                -> the scaffold in use (improvers/scaffold_target.py):
                                                        its ordering (run in a sandbox), search, localization
                                                        and template settings, and its prompts for model policies

The layers below take objects, never names: the repair agent gets a policy, the built-in
policy gets a ranker. Keeping the names here is what lets the agent stay below the learned
ranker (improvers.learn), the scaffold ordering (improvers.scaffold) and the model server.
`build_policy` is a plain module-level function, so `ouro bench` can hand it to worker
processes (and Ray) as the factory for each task's repair.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ouro.sandbox.core.errors import BadInput

log = logging.getLogger(__name__)

RANKER_CHOICES = ("none", "auto", "scaffold")


def checked_ranker(choice: str) -> str:
    """none, auto, scaffold, or the path (with ~ expanded) of a checkpoint that exists."""
    if choice in RANKER_CHOICES:
        return choice
    path = Path(choice).expanduser()
    if not path.is_file():
        raise BadInput(f"{choice}: ranker checkpoint not found (--ranker takes none, auto, scaffold or a .pt file)")
    return str(path)


def build_ranker(choice: str):
    """The built-in policy's ranker for --ranker CHOICE, or None for the heuristic order
    (`scaffold` is more than a ranker: build_policy handles it)."""
    choice = checked_ranker(choice)
    if choice == "none":
        return None
    from ouro.improvers.learn.adapter import load_default_ranker

    return load_default_ranker(None if choice == "auto" else choice, warn=log.warning)


def build_policy(config):
    """The policy a RepairConfig names (config.policy, config.ranker, config.llm_options)."""
    name = config.policy
    scaffold = _scaffold(config) if config.ranker == "scaffold" else None
    if name == "builtin":
        if scaffold is not None:
            from ouro.sandbox.core.home import OuroHome
            from ouro.sandbox.policy import load_policy

            sandbox_policy = load_policy(config.policy_file)
            if config.backend:
                sandbox_policy = sandbox_policy.with_backend(config.backend)
            return scaffold.policy(sandbox_policy, unsafe_local=config.unsafe_local,
                                   home=OuroHome.resolve(config.home).root)
        from ouro.agent.policies.builtin import BuiltinPolicy

        return BuiltinPolicy(ranker=build_ranker(config.ranker))
    kind, _, rest = name.partition(":")
    if kind == "litellm" and rest:
        from ouro.agent.llm.policy import policy_from_config

        return policy_from_config(name, config)
    if kind == "local" and rest:
        # a checkpoint ouro fine-tuned: start (or reuse) `ouro serve` for it and talk to it
        # like any OpenAI-compatible server
        from ouro.agent.llm.policy import policy_from_config
        from ouro.improvers.learn.serve import ensure_server
        from ouro.sandbox.core.home import OuroHome

        home = OuroHome.resolve(config.home)
        try:
            handle = ensure_server(rest, home.cache / "serve")
        except (FileNotFoundError, RuntimeError, TimeoutError) as e:
            raise BadInput(str(e)) from None
        api_base = (config.llm_options or {}).get("api_base") or handle.base_url
        return policy_from_config(f"litellm:openai/{handle.model_name}", config, api_base=api_base)
    raise BadInput(f"unknown policy {name!r} (available: builtin, litellm:<model>, local:<dir>)")


def _scaffold(config):
    """The scaffold in use, its settings put into config (what config already sets wins)."""
    from ouro.improvers.scaffold import ScaffoldBroken, load_scaffold

    try:
        scaffold = load_scaffold()
    except ScaffoldBroken as e:
        raise BadInput(f"the scaffold in use does not pass its checks: {e}") from None
    scaffold.apply(config)
    return scaffold

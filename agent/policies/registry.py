"""Policies other than the built-in one, by the prefix of their --policy name.

    litellm:MODEL   any model litellm reaches (hosted, vLLM, llama.cpp, Ollama, a replay server)
    local:DIR       a checkpoint ouro fine-tuned, served by `ouro serve` and reached through litellm

Each is imported only when named, so the CLI never pays for litellm unless it is used.
"""
from __future__ import annotations

from ouro.sandbox.core.errors import BadInput


def make(name: str, config):
    kind, _, rest = name.partition(":")
    if kind in ("litellm", "local") and rest:
        from ouro.agent.llm.policy import policy_from_config

        return policy_from_config(name, config)
    raise BadInput(f"unknown policy {name!r} (available: builtin, litellm:<model>, local:<dir>)")

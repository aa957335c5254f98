"""Policy rules ([[audit.rules]] in policies.toml) -> severity and action of each event.

A rule matches an event when its `kind` equals the event's kind (or is "*") and its
`pattern`, if any, is a substring of the event's detail. The first matching rule wins; an
event no rule matches keeps its kind's default severity and the action `log`.

`deny` and `kill` are enforced inside the sandbox by the audit hook, which gets the rules
that need enforcing through the OURO_AUDIT_RULES environment variable (guest_env).
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Sequence


def apply_rules(event: dict, rules: Sequence) -> dict:
    detail = event.get("detail", "")
    for rule in rules:
        if rule.kind in (event["kind"], "*") and (not rule.pattern or rule.pattern in detail):
            event["severity"] = rule.severity
            event["action"] = rule.action
            event["rule"] = rule.id
            break
    return event


def guest_env(rules: Sequence) -> dict[str, str]:
    """Environment for a sandboxed process so its hook enforces the deny/kill rules."""
    enforce = [[r.kind, r.pattern, r.action] for r in rules if r.action in ("deny", "kill")]
    return {"OURO_AUDIT_RULES": json.dumps(enforce)} if enforce else {}


@lru_cache(maxsize=1)
def _bundled_rules(mtime: float) -> tuple:
    from ouro.sandbox.policy import load_policy

    return load_policy().audit_rules


def default_rules() -> tuple:
    """The bundled policies.toml's rules, loaded once per change of the file."""
    from ouro.sandbox.policy import DEFAULT_POLICY_FILE

    try:
        mtime = DEFAULT_POLICY_FILE.stat().st_mtime
    except OSError:
        return ()
    return _bundled_rules(mtime)

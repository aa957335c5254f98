"""Options and output helpers shared by every command module (stdlib only: startup stays fast)."""
from __future__ import annotations

import argparse
import json
import sys


def add_home(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", default=argparse.SUPPRESS,
                   help="directory for runs, index, audit log and caches (default: ./.ouro or $OURO_HOME)")


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one machine-readable JSON document instead of text")


def add_policy_file(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy-file", help="sandbox/audit policy TOML (default: the bundled policies.toml)")


def home_of(args):
    from ouro.sandbox.core.home import OuroHome

    return OuroHome.resolve(getattr(args, "home", None))


def load_policy_arg(args, backend: str | None = None):
    """Load --policy-file (validated); turn PolicyError into BadInput (exit 2, one line)."""
    from ouro.sandbox.core.errors import BadInput
    from ouro.sandbox.policy import PolicyError, load_policy

    try:
        policy = load_policy(getattr(args, "policy_file", None))
        if backend:
            policy = policy.with_backend(backend)
    except PolicyError as e:
        raise BadInput(str(e)) from None
    return policy


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")

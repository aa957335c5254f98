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


def finish_command(p: argparse.ArgumentParser, func, *, home: bool = True) -> None:
    """The options every command ends with (--home where it reads ouro's home, then --json) and
    the function that runs it: `func(args)` returns the exit code."""
    if home:
        add_home(p)
    add_json(p)
    p.set_defaults(func=func)


def add_backend(p: argparse.ArgumentParser, help: str = "sandbox backend (default: the policy file's)",
                default: str | None = None) -> None:
    """--backend (one of sandbox.policy.BACKENDS) and --unsafe-local, the one way to ask for `local`."""
    from ouro.sandbox.policy import BACKENDS

    p.add_argument("--backend", choices=BACKENDS, default=default, help=help)
    p.add_argument("--unsafe-local", action="store_true", help="allow --backend local (no isolation at all)")


def add_env_options(p: argparse.ArgumentParser) -> None:
    """The repository environment's options (sandbox.images.EnvRequest)."""
    g = p.add_argument_group("the sandbox's Python and dependencies (default: what the project declares)")
    g.add_argument("--python", metavar="X.Y", help="the Python to run the tests on (default: from requires-python, "
                                                     "classifiers, tox.ini, .python-version, CI files; else 3.11)")
    g.add_argument("--deps", action="append", default=[], metavar='"PKG[==V] ..."',
                   help="extra requirements to install or pin, space-separated (may be repeated); a pin here "
                        "overrides the project's own (`--deps pytest==7.4.4` over its pytest==4.6): when both "
                        "cannot be resolved together, each side is resolved alone and this one wins for what it holds")
    g.add_argument("--image", help="a Docker image holding the Python to use (docker and gvisor backends)")
    g.add_argument("--allow-external-deps", action="store_true",
                   help="allow requirements outside the package index (--find-links, --index-url, -e, URLs, VCS, "
                        "local paths); they are still built inside the sandbox, never on the host")


def env_request_of(args):
    """The EnvRequest the options of add_env_options ask for."""
    import shlex

    from ouro.sandbox.core.errors import BadInput
    from ouro.sandbox.images import EnvRequest

    deps: list[str] = []
    for text in args.deps:
        try:
            deps += shlex.split(text)
        except ValueError as e:
            raise BadInput(f"--deps {text!r}: {e}") from None
    python = args.python
    if python is not None:
        from ouro.sandbox.project import version_tuple

        if version_tuple(python) is None:   # before any work, not after the workspace is made
            raise BadInput(f"--python {python!r}: expected X.Y, e.g. 3.8")
    return EnvRequest(python=python, deps=tuple(deps), image=args.image, allow_external=args.allow_external_deps)


def add_policy_file(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy-file", help="sandbox/audit policy TOML (default: the bundled policies.toml)")


def home_of(args):
    from ouro.sandbox.core.home import OuroHome

    return OuroHome.resolve(getattr(args, "home", None))


def load_policy_arg(args, backend: str | None = None):
    """Load --policy-file (validated: a bad one is PolicyError, exit 2, one line)."""
    from ouro.sandbox.policy import load_policy

    policy = load_policy(getattr(args, "policy_file", None))
    return policy.with_backend(backend) if backend else policy


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")

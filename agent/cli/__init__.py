"""The `ouro` command line. Startup must stay fast: nothing heavy (torch, litellm, docker) is
imported here; each command group lives in its own module, imported only when it runs.

Each command module exposes `register(subparsers)` which adds its parser(s) and sets
`func` (a callable taking the parsed args and returning an exit code) via set_defaults.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ouro.sandbox.core.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, OuroError

EPILOG = """exit codes:
  0    success
  1    the job ran and did not succeed
  2    bad input or configuration
  3    a precondition not met (nothing to repair, Docker daemon missing)
  130  interrupted (Ctrl-C); no container is left behind

Everything ouro writes lives under .ouro/ in the current directory (override with
--home or OURO_HOME)."""

# Command groups, each registered by its own module (imported lazily only for parsing).
COMMAND_MODULES = [
    "ouro.agent.cli.repair",    # repair, runs
    "ouro.agent.cli.sandbox",   # sandbox
    "ouro.agent.cli.audit",     # audit
    "ouro.agent.cli.bench",     # bench, report
    "ouro.agent.cli.learn",     # learn, serve
    "ouro.agent.cli.llm",       # llm
    "ouro.agent.cli.improve",   # improve
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse's own code for usage errors)
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"ouro: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ouro",
        description="ouro: a self-improving code agent that repairs Python repositories inside hardened sandboxes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--home", help="directory for runs, index, audit log and caches (default: ./.ouro or $OURO_HOME)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ouro.sandbox.core.log import configure

    configure()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT if args.command is None and argv else 0
    try:
        code = args.func(args)
    except OuroError as e:
        print(f"ouro: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("ouro: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return int(code or 0)


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()

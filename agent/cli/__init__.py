"""The `ouro` command line. Startup must stay fast: nothing heavy (torch, litellm, docker) is
imported here; each command group lives in its own module, imported only when it runs.

Each command module exposes `register(subparsers)` which adds its parser(s) and sets
`func` (a callable taking the parsed args and returning an exit code) via set_defaults.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ouro.sandbox.core.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, BadInput, OuroError

EPILOG = """exit codes:
  0    success
  1    the job ran and did not succeed
  2    bad input or configuration
  3    a precondition not met (nothing to repair, Docker daemon missing)
  130  interrupted (Ctrl-C); no container is left behind
  141  the reader of standard output went away (`ouro ... | head`)
With --json, a command that ends in an error prints one JSON object on stdout:
{"status": "error", "exit_code": N, "error": "<the message>"}.

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
        raise BadInput(message)     # main prints it, as JSON too under --json


def _error(message: str, code: int, as_json: bool) -> int:
    """An error exit: one line on stderr and, under --json, one JSON object on stdout. The
    message can carry text ouro did not write (a dependency file's line, pip's last words), so
    its control characters are escaped (JSON escapes them by itself)."""
    from ouro.sandbox.core.text import one_line

    print(f"ouro: error: {one_line(message)}", file=sys.stderr)
    if as_json:
        from ouro.agent.cli.common import print_json

        print_json({"status": "error", "exit_code": code, "error": message})
    return code


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
    from ouro.sandbox.core.hostenv import no_cwd_on_python_path
    from ouro.sandbox.core.log import configure

    no_cwd_on_python_path()   # ouro runs inside repositories it does not trust
    configure()
    # before parsing: a usage error under --json is answered in JSON too
    wants_json = "--json" in (sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except BadInput as e:
        return _error(str(e), e.exit_code, wants_json)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT if args.command is None and argv else 0
    as_json = bool(getattr(args, "json", False))
    try:
        code = args.func(args)
    except OuroError as e:
        return _error(str(e), e.exit_code, as_json)
    except KeyboardInterrupt:
        return _error("interrupted", EXIT_INTERRUPTED, as_json)
    return int(code or 0)


def _stdout_closed() -> bool:
    """Has the reader of standard output gone away (a pipe with no reader reports an error)?"""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & select.POLLERR for _, ev in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def run() -> None:
    try:
        try:
            code = main()
        except SystemExit as e:   # argparse's --help and usage errors: their output is flushed below
            code = e.code
        sys.stdout.flush()
    except BrokenPipeError:
        if not _stdout_closed():
            raise   # another pipe broke (a child's, a server's): a real error
        # the reader closed the pipe (`| head`): say nothing more, as a killed `cat` would (128 +
        # SIGPIPE); stdout goes to /dev/null so the interpreter's own flush at exit is quiet too
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141
    sys.exit(code)


if __name__ == "__main__":
    run()

"""Errors that end a command with a one-line message and a documented exit code.

Exit codes (shared by every command, see `ouro --help`):
  0  success
  1  the job ran and did not succeed
  2  bad input or configuration
  3  a precondition not met (nothing to repair, daemon missing)
  130 interrupted
"""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_PRECONDITION = 3
EXIT_INTERRUPTED = 130


class OuroError(Exception):
    """An expected failure: the CLI prints `ouro: error: <message>` and exits with `exit_code`."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class BadInput(OuroError):
    exit_code = EXIT_BAD_INPUT


class PreconditionFailed(OuroError):
    exit_code = EXIT_PRECONDITION

"""Diagnostics go through `logging` under the "ouro" logger; the command line shows them.

Library code calls `logging.getLogger(__name__).warning(...)` and never prints; the CLI
calls `configure()` once, which writes records to stderr as `ouro: warning: ...` (and
`ouro: note: ...` for info), the same shape as its own error lines. Without `configure`
(ouro used as a library) the caller's logging setup decides.
"""
from __future__ import annotations

import logging
import sys

_LABELS = {logging.DEBUG: "debug", logging.INFO: "note", logging.WARNING: "warning", logging.ERROR: "error",
           logging.CRITICAL: "error"}


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"ouro: {_LABELS.get(record.levelno, record.levelname.lower())}: {record.getMessage()}"


def configure(level: int = logging.INFO) -> None:
    """Send the "ouro" logger's records to stderr, once per process."""
    logger = logging.getLogger("ouro")
    if any(getattr(h, "_ouro", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    handler._ouro = True
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False

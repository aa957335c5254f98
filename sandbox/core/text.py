"""Text that someone else wrote (test output, pip's messages, a repository's files), made safe
to show: the one owner of escaping terminal control characters for every layer.

A terminal control sequence (ESC, BEL, an OSC title or hyperlink, an 8-bit CSI) in a test's
assertion message, in the stderr of a setup.py that pip ran in the build sandbox, or in a
dependency file's line must not reach the user's terminal, a Markdown viewer or a commit message
as itself: it is shown as an escape (`\\x1b`).
"""
from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, and the C1 block (U+0080-U+009F: 8-bit CSI, OSC...)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """text with every control character but tab and newline shown as an escape (`\\x1b`)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text or "")


def one_line(text: str) -> str:
    """text as one printable line: newlines and tabs escaped too (an error message's form)."""
    return _CONTROL_OR_NEWLINE.sub(lambda m: f"\\x{ord(m.group()):02x}", text or "")

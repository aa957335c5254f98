"""Text that someone else wrote (test output, what a sandbox wrote, pip's messages, a
repository's files), made safe to show: the one owner of escaping terminal control characters,
for every layer.

A terminal control sequence (ESC, BEL, an OSC title, hyperlink or clipboard write, an 8-bit
CSI) or a bidi override in a test's failure message, in the stderr of a setup.py that pip ran
in the build sandbox, or in a dependency file's line must not reach the user's terminal, a
Markdown viewer or a commit message as itself: it is shown as an escape (`\\x1b`, `\\u202e`).
"""
from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidi overrides that reorder text
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# the same, and tab and newline too: one line
_CONTROL_OR_BREAK = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escaped(m: re.Match) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def escape_control(text: str) -> str:
    """Terminal control characters made visible (ESC -> \\x1b), everything else unchanged:
    an OSC 52 sequence in a test's failure message must not write the user's clipboard when
    an explanation, a commit message or `ouro audit list` shows it."""
    if not text or not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escaped, text)


def one_line(text: str) -> str:
    """text as one printable line: newlines and tabs escaped too (an error message's form)."""
    return _CONTROL_OR_BREAK.sub(_escaped, text or "")

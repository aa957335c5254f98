"""Text the host shows that came from a sandbox: terminal control characters made visible."""
from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidi overrides that reorder text
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_control(text: str) -> str:
    """Terminal control characters made visible (ESC -> \\x1b), everything else unchanged:
    an OSC 52 sequence in a test's failure message must not write the user's clipboard when
    an explanation, a commit message or `ouro audit list` shows it."""
    if not text or not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        text)

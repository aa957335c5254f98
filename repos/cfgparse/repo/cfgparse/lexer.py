"""Turn the physical lines of an INI file into classified logical lines."""
from dataclasses import dataclass

from .errors import ParseError

COMMENT_PREFIXES = ("#", ";")
DELIMITERS = ("=", ":")


@dataclass(frozen=True)
class Line:
    kind: str  # "section", "pair", "continuation"
    lineno: int
    name: str = ""
    value: str = ""


def strip_inline_comment(value):
    """Drop a trailing comment: a comment prefix that follows whitespace."""
    for i, ch in enumerate(value):
        if ch in COMMENT_PREFIXES and i > 0 and value[i - 1].isspace():
            return value[:i + 1].rstrip()
    return value


def split_pair(text, lineno):
    """Split 'key = value' or 'key: value' at the first delimiter."""
    positions = [p for p in (text.find(d) for d in DELIMITERS) if p != -1]
    if not positions:
        raise ParseError(f"line {lineno}: expected 'key = value', got {text!r}")
    idx = min(positions)
    key = text[:idx].strip().lower()
    if not key:
        raise ParseError(f"line {lineno}: empty key")
    value = strip_inline_comment(text[idx + 1:].strip())
    return key, value


def tokenize(text):
    """Yield Line objects; blank lines and full-line comments are skipped."""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(COMMENT_PREFIXES):
            continue
        if raw[0].isspace():
            yield Line("continuation", lineno, value=strip_inline_comment(stripped))
        elif stripped.startswith("["):
            if not stripped.endswith("]"):
                raise ParseError(f"line {lineno}: unterminated section header")
            name = stripped[1:-1].strip()
            if not name:
                raise ParseError(f"line {lineno}: empty section name")
            yield Line("section", lineno, name=name)
        else:
            key, value = split_pair(stripped, lineno)
            yield Line("pair", lineno, name=key, value=value)

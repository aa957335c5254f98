"""Assemble classified lines into sections of raw (uninterpolated) values."""
from .errors import ParseError
from .lexer import tokenize

DEFAULT_SECTION = "DEFAULT"


def parse(text):
    """Return {section: {key: raw_value}}; the DEFAULT section is kept apart."""
    sections = {}
    current = None
    last_key = None
    for line in tokenize(text):
        if line.kind == "section":
            if line.name in sections:
                raise ParseError(f"line {line.lineno}: duplicate section {line.name!r}")
            current = sections.setdefault(line.name, {})
            last_key = None
        elif line.kind == "pair":
            if current is None:
                raise ParseError(f"line {line.lineno}: key {line.name!r} outside any section")
            if line.name in current:
                raise ParseError(f"line {line.lineno}: duplicate key {line.name!r}")
            current[line.name] = line.value
            last_key = line.name
        else:
            if last_key is None:
                raise ParseError(f"line {line.lineno}: continuation line without a key")
            joined = current[last_key]
            current[last_key] = f"{joined}\n{line.value}" if joined else line.value
    defaults = sections.pop(DEFAULT_SECTION, {})
    return defaults, sections

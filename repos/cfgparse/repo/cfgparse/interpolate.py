"""Expand ${key} and ${section:key} references."""
import re

from .errors import InterpolationError

MAX_DEPTH = 10
_REF = re.compile(r"\$\{([^}]*)\}")


def expand(value, section, lookup, depth=0):
    """Replace every reference in value; lookup(section, key) returns a raw value."""
    if depth > MAX_DEPTH:
        raise InterpolationError(f"reference chain too deep in section {section!r}")
    if "$" not in value:
        return value

    def replace(match):
        ref = match.group(1)
        target_section, _, key = ref.rpartition(":")
        target_section = target_section or section
        raw = lookup(target_section, key.strip().lower())
        if raw is None:
            raise InterpolationError(f"cannot resolve ${{{ref}}} in section {section!r}")
        return expand(raw, target_section, lookup, depth + 1)

    return _REF.sub(replace, value.replace("$$", "\0")).replace("\0", "$")

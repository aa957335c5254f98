"""npm-style ranges: comparators (>=1.2.0 <2.0.0), caret, tilde, x-ranges, || alternatives."""
import re

from .compare import compare
from .errors import InvalidRange
from .version import Version

_PARTIAL = re.compile(r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?$")
_OPS = (">=", "<=", ">", "<", "=")


def _within(version, low, high):
    """low <= version < high; either bound may be None (unbounded)."""
    return (low is None or compare(version, low) >= 0) or (high is None or compare(version, high) < 0)


def _partial(text):
    match = _PARTIAL.match(text)
    if not match:
        raise InvalidRange(f"bad version in range: {text!r}")
    parts = [None if p is None or p in "xX*" else int(p) for p in match.groups()[:3]]
    pre = tuple(match.group(4).split(".")) if match.group(4) else ()
    return parts, pre


def _bounds_for(token):
    """The [low, high) interval one range token stands for."""
    if token in ("*", "x", "X", ""):
        return None, None
    if token[0] == "^":
        (major, minor, patch), pre = _partial(token[1:])
        low = Version(major, minor or 0, patch or 0, pre)
        if major > 0 or minor is None:
            return low, Version(major + 1, 0, 0)
        if minor > 0 or patch is None:
            return low, Version(0, minor + 1, 0)
        return low, Version(0, 0, patch + 1)
    if token[0] == "~":
        (major, minor, patch), pre = _partial(token[1:])
        low = Version(major, minor or 0, patch or 0, pre)
        if minor is None:
            return low, Version(major + 1, 0, 0)
        return low, Version(major, minor + 1, 0)
    op = next((o for o in _OPS if token.startswith(o)), "=")
    (major, minor, patch), pre = _partial(token[len(op):] if token.startswith(op) else token)
    if major is None:
        return None, None
    low = Version(major, minor or 0, patch or 0, pre)
    if minor is None:
        exact_high = Version(major + 1, 0, 0)
    elif patch is None:
        exact_high = Version(major, minor + 1, 0)
    else:
        exact_high = Version(major, minor, patch + 1)
    if op == "=":
        return low, exact_high
    if op == ">=":
        return low, None
    if op == ">":
        return exact_high, None
    if op == "<":
        return None, low
    return None, exact_high  # "<="


class Range:
    def __init__(self, text):
        self.text = text
        self.alternatives = []
        for alt in text.split("||"):
            tokens = alt.split()
            self.alternatives.append([_bounds_for(t) for t in tokens] or [(None, None)])

    def __repr__(self):
        return f"Range({self.text!r})"

    def _admits_prerelease(self, version):
        """A pre-release only matches when a bound in the range names the same core with a tag."""
        for bounds in self.alternatives:
            for low, high in bounds:
                for bound in (low, high):
                    if bound is not None and bound.prerelease and bound.core() == version.core():
                        return True
        return False

    def _prerelease_ok(self, version, include_prerelease):
        if not version.prerelease:
            return True
        if not include_prerelease:
            return True
        return self._admits_prerelease(version)

    def matches(self, version, include_prerelease=False):
        version = Version.parse(version)
        in_range = any(all(_within(version, low, high) for low, high in bounds)
                       for bounds in self.alternatives)
        return in_range and self._prerelease_ok(version, include_prerelease)


def satisfies(version, range_text, include_prerelease=False):
    return Range(range_text).matches(version, include_prerelease)


def max_satisfying(versions, range_text, include_prerelease=False):
    rng = Range(range_text)
    matching = [Version.parse(v) for v in versions if rng.matches(v, include_prerelease)]
    return str(max(matching)) if matching else None

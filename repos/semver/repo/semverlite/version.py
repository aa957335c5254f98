"""The Version value: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]."""
import functools
import re
from dataclasses import dataclass, field

from .errors import InvalidVersion

_VERSION = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple = ()
    build: tuple = field(default=(), compare=False)

    @classmethod
    def parse(cls, text):
        if isinstance(text, Version):
            return text
        match = _VERSION.match(str(text).strip())
        if not match:
            raise InvalidVersion(f"not a semantic version: {text!r}")
        major, minor, patch, pre, build = match.groups()
        prerelease = tuple(pre.split(".")) if pre else ()
        for ident in prerelease:
            if ident.isdigit() and len(ident) > 1 and ident[0] == "0":
                raise InvalidVersion(f"numeric identifier with leading zero in {text!r}")
        return cls(int(major), int(minor), int(patch), prerelease,
                   tuple(build.split(".")) if build else ())

    @property
    def is_prerelease(self):
        return bool(self.prerelease)

    def core(self):
        return Version(self.major, self.minor, self.patch)

    def bump(self, part):
        if part == "major":
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            return Version(self.major, self.minor + 1, 0)
        if part == "patch":
            return Version(self.major, self.minor, self.patch + 1)
        raise ValueError(f"unknown part {part!r}")

    def __eq__(self, other):
        from .compare import compare
        return isinstance(other, Version) and compare(self, other) == 0

    def __lt__(self, other):
        from .compare import compare
        return compare(self, other) < 0

    def __hash__(self):
        return hash((self.major, self.minor, self.patch, self.prerelease))

    def __str__(self):
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

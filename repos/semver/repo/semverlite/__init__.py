"""semverlite: semantic versions (semver.org 2.0.0) and npm-style ranges."""
from .compare import compare
from .errors import InvalidRange, InvalidVersion
from .ranges import Range, max_satisfying, satisfies
from .version import Version

__all__ = ["compare", "InvalidRange", "InvalidVersion", "Range", "max_satisfying",
           "satisfies", "Version"]

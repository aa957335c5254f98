class JsonPointerError(ValueError):
    """A malformed pointer, or one that does not resolve."""


class PatchError(ValueError):
    """A malformed patch operation."""


class PatchConflict(PatchError):
    """The operation does not apply to this document."""


class PatchTestFailed(PatchError):
    """A 'test' operation found a different value."""

"""jsonptr: JSON Pointer and JSON Patch on dicts and lists."""
from .diff import make_patch
from .errors import JsonPointerError, PatchConflict, PatchError, PatchTestFailed
from .patch import apply_patch
from .pointer import Pointer, resolve

__all__ = ["make_patch", "JsonPointerError", "PatchConflict", "PatchError", "PatchTestFailed",
           "apply_patch", "Pointer", "resolve"]

"""RFC 6902 JSON Patch. The input document is never modified."""
import copy

from .errors import JsonPointerError, PatchConflict, PatchError, PatchTestFailed
from .pointer import Pointer, array_index

_REQUIRED = {
    "add": ("path", "value"),
    "remove": ("path",),
    "replace": ("path", "value"),
    "move": ("from", "path"),
    "copy": ("from", "path"),
    "test": ("path", "value"),
}


def _container(doc, pointer):
    parent, key = pointer.parent()
    try:
        return parent.resolve(doc), key
    except JsonPointerError as exc:
        raise PatchConflict(str(exc)) from None


def _add(doc, pointer, value):
    if pointer.is_root:
        return value
    container, key = _container(doc, pointer)
    if isinstance(container, dict):
        container[key] = value
    elif isinstance(container, list):
        if key == "-":
            container.extend(value)
        else:
            try:
                container.insert(array_index(key, len(container) + 1), value)
            except JsonPointerError as exc:
                raise PatchConflict(str(exc)) from None
    else:
        raise PatchConflict(f"{pointer}: cannot add into {type(container).__name__}")
    return doc


def _remove(doc, pointer):
    if pointer.is_root:
        raise PatchConflict("cannot remove the whole document")
    container, key = _container(doc, pointer)
    try:
        if isinstance(container, dict):
            if key not in container:
                raise JsonPointerError(f"{pointer}: no member {key!r}")
            return container.pop(key)
        if isinstance(container, list):
            return container.pop(array_index(key, len(container)))
    except JsonPointerError as exc:
        raise PatchConflict(str(exc)) from None
    raise PatchConflict(f"{pointer}: cannot remove from {type(container).__name__}")


def _get(doc, pointer):
    try:
        return pointer.resolve(doc)
    except JsonPointerError as exc:
        raise PatchConflict(str(exc)) from None


def apply_operation(doc, op):
    kind = op.get("op")
    if kind not in _REQUIRED:
        raise PatchError(f"unknown operation {kind!r}")
    missing = [field for field in _REQUIRED[kind] if field not in op]
    if missing:
        raise PatchError(f"{kind}: missing {', '.join(missing)}")
    path = Pointer(op["path"])
    if kind == "add":
        return _add(doc, path, copy.deepcopy(op["value"]))
    if kind == "remove":
        _remove(doc, path)
        return doc
    if kind == "replace":
        _get(doc, path)
        if path.is_root:
            return copy.deepcopy(op["value"])
        _remove(doc, path)
        return _add(doc, path, copy.deepcopy(op["value"]))
    if kind == "test":
        actual = _get(doc, path)
        # 1 == True in Python but not in JSON, so the types must agree as well.
        if actual != op["value"] or type(actual) is not type(op["value"]):
            raise PatchTestFailed(f"test at {path}: expected {op['value']!r}, found {actual!r}")
        return doc
    source = Pointer(op["from"])
    if kind == "move":
        if source.is_prefix_of(path) and source.tokens != path.tokens:
            raise PatchConflict(f"cannot move {source} into its own child {path}")
        value = _remove(doc, source) if not source.is_root else _get(doc, source)
        return _add(doc, path, value)
    return _add(doc, path, copy.deepcopy(_get(doc, source)))  # copy


def apply_patch(doc, operations):
    result = copy.deepcopy(doc)
    for op in operations:
        result = apply_operation(result, op)
    return result

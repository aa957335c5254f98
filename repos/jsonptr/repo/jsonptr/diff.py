"""Produce a patch that turns one document into another."""
from .pointer import Pointer


def make_patch(source, target, _tokens=()):
    if isinstance(source, dict) and isinstance(target, dict):
        ops = []
        for key in source:
            path = Pointer.from_tokens(_tokens + (key,)).text
            if key not in target:
                ops.append({"op": "remove", "path": path})
            else:
                ops.extend(make_patch(source[key], target[key], _tokens + (key,)))
        for key in target:
            if key not in source:
                ops.append({"op": "add", "path": Pointer.from_tokens(_tokens + (key,)).text,
                            "value": target[key]})
        return ops
    if isinstance(source, list) and isinstance(target, list):
        ops = []
        common = min(len(source), len(target))
        for i in range(common):
            ops.extend(make_patch(source[i], target[i], _tokens + (str(i),)))
        base = Pointer.from_tokens(_tokens).text
        for i in range(len(source) - 1, common - 1, -1):
            ops.append({"op": "remove", "path": f"{base}/{i}"})
        for value in target[common:]:
            ops.append({"op": "add", "path": f"{base}/-", "value": value})
        return ops
    if source == target and type(source) is type(target):
        return []
    return [{"op": "replace", "path": Pointer.from_tokens(_tokens).text, "value": target}]

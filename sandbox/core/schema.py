"""Reading a TOML table into a dataclass, strictly: one helper for every configuration file.

A typo in a configuration (a security policy above all) must not fall back to a default in
silence. `from_table(Cls, table, where)` builds `Cls` from a parsed TOML table and raises
`SchemaError` with one line naming the file, the key and the problem for:
- a key the dataclass has no field for (the known keys are listed);
- a value of the wrong type (from the field's annotation; `true` is no integer);
- a value its field's `check` refuses (declared with `checked(...)` as field metadata);
- a required field (no default) that is missing.
A field whose type is another dataclass is a nested table, read the same way. The defaults
live in the dataclasses alone, so a command line can read them from there too
(`default_of(Cls, "budget")`).
"""
from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Callable

from ouro.sandbox.core.errors import BadInput


class SchemaError(BadInput):
    """A configuration value is missing, unknown, mistyped or out of range (exit 2)."""


def checked(default: Any = dataclasses.MISSING, *, check: Callable[[Any], bool] | None = None, problem: str = "",
            default_factory: Any = dataclasses.MISSING, key: str | None = None, **field_kw) -> Any:
    """A dataclass field with a check on its value, and optionally another name in the file
    (`key`, for names that are not identifiers). `check(value)` returns True when the value
    is good, else False (then `problem` says what it wants) or a string saying what is wrong."""
    meta = {"check": check, "problem": problem, "key": key}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta, **field_kw)
    return dataclasses.field(default=default, metadata=meta, **field_kw)


def default_of(cls: type, name: str) -> Any:
    """The default of field `name` of dataclass `cls` (for argparse defaults and help texts)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            raise KeyError(f"{cls.__name__}.{name} has no default")
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def type_name(t: Any) -> str:
    origin = typing.get_origin(t)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(t) if a is not type(None))
    if origin in (list, tuple):
        args = [a for a in typing.get_args(t) if a is not Ellipsis]
        return f"array of {type_name(args[0])}" if args else "array"
    if origin is dict or dataclasses.is_dataclass(t):
        return "table"
    if t is float:
        return "int or float"  # TOML writes 1 and 1.0 alike for a number
    return getattr(t, "__name__", str(t))


def _convert(value: Any, t: Any, where: str) -> Any:
    """value as type t, or SchemaError. Integers are accepted where a float is wanted."""
    origin = typing.get_origin(t)
    if t is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(t)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(value, option, where)
            except SchemaError:
                continue
        raise SchemaError(f"{where}: expected {type_name(t)}, got {_shown(value)}")
    if dataclasses.is_dataclass(t):
        if not isinstance(value, dict):
            raise SchemaError(f"{where}: expected a table, got {_shown(value)}")
        return from_table(t, value, where)
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise SchemaError(f"{where}: expected {type_name(t)}, got {_shown(value)}")
        item = next((a for a in typing.get_args(t) if a is not Ellipsis), Any)
        items = [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise SchemaError(f"{where}: expected a table, got {_shown(value)}")
        kt, vt = (typing.get_args(t) + (Any, Any))[:2]
        return {_convert(k, kt, where): _convert(v, vt, f"{where}.{k}") for k, v in value.items()}
    if t is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif t is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(t, type):
        if isinstance(value, t):
            return value
    raise SchemaError(f"{where}: expected {type_name(t)}, got {_shown(value)}")


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def from_table(cls: type, table: dict, where: str = "", *, ignore: tuple[str, ...] = ()) -> Any:
    """An instance of dataclass `cls` from `table`; `where` prefixes every message (the file
    and the section). Keys in `ignore` are left for the caller."""
    if not isinstance(table, dict):
        raise SchemaError(f"{where}: expected a table, got {_shown(table)}")
    hints = typing.get_type_hints(cls)
    fields = {(f.metadata.get("key") or f.name): f for f in dataclasses.fields(cls) if f.init}
    prefix = f"{where}." if where and not where.endswith(": ") else where
    for key in table:
        if key not in fields and key not in ignore:
            what = "section" if isinstance(table[key], dict) else "key"
            raise SchemaError(f"{prefix}{key}: unknown {what} (known: {', '.join(fields)})")
    values = {}
    for key, f in fields.items():
        if key not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SchemaError(f"{prefix}{key}: missing")
            continue
        value = _convert(table[key], hints[f.name], f"{prefix}{key}")
        check = f.metadata.get("check")
        verdict = check(value) if check is not None else True
        if verdict is not True:   # False, or a string that says what is wrong
            problem = verdict if isinstance(verdict, str) and verdict else f.metadata.get("problem") or "not allowed"
            raise SchemaError(f"{prefix}{key}: {problem}, got {table[key]!r}")
        values[f.name] = value
    return cls(**values)


def load_toml(path, what: str = "file") -> dict:
    """A TOML file's content, or SchemaError naming the file and what is wrong with it."""
    import tomllib
    from pathlib import Path

    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"{path}: {what} not found") from None
    except tomllib.TOMLDecodeError as e:
        raise SchemaError(f"{path}: not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SchemaError(f"{path}: cannot read: {e}") from None

"""The sandbox policy: limits, network, mounts, backend, audit rules, loaded from TOML.

Validation is strict because a typo in a security policy must not silently fall back to a
default: an unknown key, a wrong type or an impossible value raises PolicyError, whose
message is one line naming the file, the key and the problem.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent.parent / "policies.toml"

BACKENDS = ("docker", "gvisor", "bwrap", "local")
SEVERITIES = ("low", "medium", "high", "critical")
ACTIONS = ("log", "deny", "kill")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Limits:
    cpus: float = 1.0
    memory_mb: int = 1024
    pids: int = 256
    wall_time_s: float = 300.0
    output_bytes: int = 1 << 20
    disk_mb: int = 512
    nofile: int = 1024
    fsize_mb: int = 256


@dataclass(frozen=True)
class AuditRule:
    id: str
    description: str
    severity: str
    action: str
    kind: str           # the event kind it matches (e.g. "socket", "subprocess", "open_outside")
    pattern: str = ""   # optional extra match on the event detail (substring)


@dataclass(frozen=True)
class SandboxPolicy:
    backend: str = "docker"
    image: str = "ouro-base:bookworm"
    uid: int = 10001
    limits: Limits = field(default_factory=Limits)
    network: str = "none"
    readonly_mounts: dict[str, str] = field(default_factory=dict)
    audit_rules: tuple[AuditRule, ...] = ()
    source: str = "<defaults>"

    def with_limits(self, **changes) -> "SandboxPolicy":
        from dataclasses import replace

        return replace(self, limits=replace(self.limits, **changes))

    def with_backend(self, backend: str) -> "SandboxPolicy":
        from dataclasses import replace

        if backend not in BACKENDS:
            raise PolicyError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
        return replace(self, backend=backend)


# schema: section -> key -> (type(s), check, message)
def _positive(v):
    return v > 0


_SCHEMA: dict[str, dict[str, tuple]] = {
    "sandbox": {
        "backend": (str, lambda v: v in BACKENDS, f"must be one of {', '.join(BACKENDS)}"),
        "image": (str, lambda v: bool(v.strip()), "must not be empty"),
        "uid": (int, lambda v: 0 < v < 2**31, "must be a non-root uid (1..2^31)"),
    },
    "limits": {
        "cpus": ((int, float), _positive, "must be > 0"),
        "memory_mb": (int, lambda v: v >= 16, "must be at least 16"),
        "pids": (int, lambda v: v >= 8, "must be at least 8"),
        "wall_time_s": ((int, float), _positive, "must be > 0"),
        "output_bytes": (int, lambda v: v >= 1024, "must be at least 1024"),
        "disk_mb": (int, lambda v: v >= 1, "must be at least 1"),
        "nofile": (int, lambda v: v >= 16, "must be at least 16"),
        "fsize_mb": (int, lambda v: v >= 1, "must be at least 1"),
    },
    "network": {
        "mode": (str, lambda v: v == "none", 'must be "none" (code under test never gets a network)'),
    },
    "mounts": {
        "readonly": (dict, lambda v: all(isinstance(a, str) and isinstance(b, str) and b.startswith("/") for a, b in v.items()),
                     "must map host paths to absolute in-sandbox paths"),
    },
}
_RULE_KEYS = {"id": str, "description": str, "severity": str, "action": str, "kind": str, "pattern": str}


def _type_name(t) -> str:
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return t.__name__


def _check_type(value, expected) -> bool:
    # bool is an int in Python; a policy value of `true` for memory is still a type error.
    if isinstance(value, bool) and expected is not bool and (expected is int or (isinstance(expected, tuple) and bool not in expected)):
        return False
    return isinstance(value, expected)


def parse_policy(data: dict, source: str) -> SandboxPolicy:
    def err(key: str, problem: str) -> PolicyError:
        return PolicyError(f"{source}: {key}: {problem}")

    values: dict[str, dict] = {}
    for section, body in data.items():
        if section == "audit":
            continue
        if section not in _SCHEMA:
            raise err(section, f"unknown section (known: {', '.join(sorted([*_SCHEMA, 'audit']))})")
        if not isinstance(body, dict):
            raise err(section, "must be a table")
        for key, value in body.items():
            if key not in _SCHEMA[section]:
                raise err(f"{section}.{key}", f"unknown key (known: {', '.join(_SCHEMA[section])})")
            typ, check, msg = _SCHEMA[section][key]
            if not _check_type(value, typ):
                raise err(f"{section}.{key}", f"expected {_type_name(typ)}, got {type(value).__name__} {value!r}")
            if not check(value):
                raise err(f"{section}.{key}", f"{msg}, got {value!r}")
        values[section] = body

    rules: list[AuditRule] = []
    audit = data.get("audit", {})
    if not isinstance(audit, dict):
        raise err("audit", "must be a table")
    for key in audit:
        if key != "rules":
            raise err(f"audit.{key}", "unknown key (known: rules)")
    raw_rules = audit.get("rules", [])
    if not isinstance(raw_rules, list):
        raise err("audit.rules", "must be an array of tables ([[audit.rules]])")
    seen = set()
    for i, rule in enumerate(raw_rules):
        where = f"audit.rules[{i}]"
        if not isinstance(rule, dict):
            raise err(where, "must be a table")
        for key, value in rule.items():
            if key not in _RULE_KEYS:
                raise err(f"{where}.{key}", f"unknown key (known: {', '.join(_RULE_KEYS)})")
            if not isinstance(value, _RULE_KEYS[key]):
                raise err(f"{where}.{key}", f"expected str, got {type(value).__name__} {value!r}")
        for key in ("id", "description", "severity", "action", "kind"):
            if key not in rule:
                raise err(f"{where}.{key}", "missing")
        if rule["severity"] not in SEVERITIES:
            raise err(f"{where}.severity", f"must be one of {', '.join(SEVERITIES)}, got {rule['severity']!r}")
        if rule["action"] not in ACTIONS:
            raise err(f"{where}.action", f"must be one of {', '.join(ACTIONS)}, got {rule['action']!r}")
        if rule["id"] in seen:
            raise err(f"{where}.id", f"duplicate rule id {rule['id']!r}")
        seen.add(rule["id"])
        rules.append(AuditRule(**rule))

    sb = values.get("sandbox", {})
    lim = dict(values.get("limits", {}))
    for k in ("cpus", "wall_time_s"):
        if k in lim:
            lim[k] = float(lim[k])
    return SandboxPolicy(
        backend=sb.get("backend", "docker"),
        image=sb.get("image", "ouro-base:bookworm"),
        uid=sb.get("uid", 10001),
        limits=Limits(**lim),
        network=values.get("network", {}).get("mode", "none"),
        readonly_mounts=dict(values.get("mounts", {}).get("readonly", {})),
        audit_rules=tuple(rules),
        source=source,
    )


def load_policy(path: str | Path | None = None) -> SandboxPolicy:
    """Load and validate a policy file; None means the bundled policies.toml."""
    path = Path(path) if path else DEFAULT_POLICY_FILE
    if not path.exists():
        if path == DEFAULT_POLICY_FILE:
            return SandboxPolicy()
        raise PolicyError(f"{path}: file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{path}: not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyError(f"{path}: cannot read: {e}") from None
    return parse_policy(data, str(path))

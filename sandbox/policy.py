"""The sandbox policy: limits, network, mounts, backend, audit rules, loaded from TOML.

Validation is strict because a typo in a security policy must not silently fall back to a
default: an unknown key, a wrong type or an impossible value raises PolicyError, whose
message is one line naming the file, the key and the problem (sandbox.core.schema reads
every configuration file of ouro the same way).

The default policy is `policies.toml` at the top of the source tree; the package carries it
as `ouro/sandbox/policies.toml` (a link in the tree, a copy in a wheel), so an installed ouro
applies the same rules. If it cannot be read, that is an error, never a policy without rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ouro.sandbox.base import SandboxError
from ouro.sandbox.core.schema import SchemaError, checked, from_table, load_toml

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent / "policies.toml"

BACKENDS = ("docker", "gvisor", "bwrap", "local")
SEVERITIES = ("low", "medium", "high", "critical")
ACTIONS = ("log", "deny", "kill")


class PolicyError(SchemaError, SandboxError):
    """A policy file is missing, not TOML, or has a bad key or value (exit 2)."""


def _at_least(n):
    return lambda v: v >= n


@dataclass(frozen=True)
class Limits:
    cpus: float = checked(1.0, check=lambda v: v > 0, problem="must be > 0")
    memory_mb: int = checked(1024, check=_at_least(16), problem="must be at least 16")
    pids: int = checked(256, check=_at_least(8), problem="must be at least 8")
    wall_time_s: float = checked(300.0, check=lambda v: v > 0, problem="must be > 0")
    output_bytes: int = checked(1 << 20, check=_at_least(1024), problem="must be at least 1024")
    disk_mb: int = checked(512, check=_at_least(1), problem="must be at least 1")
    nofile: int = checked(1024, check=_at_least(16), problem="must be at least 16")
    fsize_mb: int = checked(256, check=_at_least(1), problem="must be at least 1")


@dataclass(frozen=True)
class AuditRule:
    id: str
    description: str
    severity: str = checked(check=lambda v: v in SEVERITIES, problem=f"must be one of {', '.join(SEVERITIES)}")
    action: str = checked(check=lambda v: v in ACTIONS, problem=f"must be one of {', '.join(ACTIONS)}")
    kind: str = checked()   # the event kind it matches (e.g. "socket", "subprocess", "open_outside")
    pattern: str = ""       # optional extra match on the event detail (substring)


# -- the file's shape: one dataclass per section -------------------------------------------------
@dataclass(frozen=True)
class _SandboxSection:
    backend: str = checked("docker", check=lambda v: v in BACKENDS, problem=f"must be one of {', '.join(BACKENDS)}")
    image: str = checked("ouro-base:bookworm", check=lambda v: bool(v.strip()), problem="must not be empty")
    uid: int = checked(10001, check=lambda v: 0 < v < 2**31, problem="must be a non-root uid (1..2^31)")


@dataclass(frozen=True)
class _NetworkSection:
    mode: str = checked("none", check=lambda v: v == "none", problem='must be "none" (code under test never gets a network)')


@dataclass(frozen=True)
class _MountsSection:
    readonly: dict[str, str] = checked(default_factory=dict, check=lambda v: all(b.startswith("/") for b in v.values()),
                                       problem="must map host paths to absolute in-sandbox paths")


@dataclass(frozen=True)
class _AuditSection:
    rules: tuple[AuditRule, ...] = checked((), check=lambda rules: len({r.id for r in rules}) == len(rules),
                                           problem="rule ids must be unique")


@dataclass(frozen=True)
class _PolicyFile:
    sandbox: _SandboxSection = field(default_factory=_SandboxSection)
    limits: Limits = field(default_factory=Limits)
    network: _NetworkSection = field(default_factory=_NetworkSection)
    mounts: _MountsSection = field(default_factory=_MountsSection)
    audit: _AuditSection = field(default_factory=_AuditSection)


_DEFAULTS = _PolicyFile()


@dataclass(frozen=True)
class SandboxPolicy:
    backend: str = _DEFAULTS.sandbox.backend
    image: str = _DEFAULTS.sandbox.image
    uid: int = _DEFAULTS.sandbox.uid
    limits: Limits = field(default_factory=Limits)
    network: str = _DEFAULTS.network.mode
    readonly_mounts: dict[str, str] = field(default_factory=dict)
    audit_rules: tuple[AuditRule, ...] = ()
    source: str = "<defaults>"

    def with_limits(self, **changes) -> "SandboxPolicy":
        return replace(self, limits=replace(self.limits, **changes))

    def with_backend(self, backend: str) -> "SandboxPolicy":
        if backend not in BACKENDS:
            raise PolicyError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
        return replace(self, backend=backend)


def parse_policy(data: dict, source: str) -> SandboxPolicy:
    try:
        f = from_table(_PolicyFile, data, f"{source}: ")
    except SchemaError as e:
        raise PolicyError(str(e)) from None
    return SandboxPolicy(backend=f.sandbox.backend, image=f.sandbox.image, uid=f.sandbox.uid, limits=f.limits,
                         network=f.network.mode, readonly_mounts=dict(f.mounts.readonly), audit_rules=f.audit.rules,
                         source=source)


def load_policy(path: str | Path | None = None) -> SandboxPolicy:
    """Load and validate a policy file; None means the default policy shipped with ouro."""
    path = Path(path) if path else DEFAULT_POLICY_FILE
    try:
        data = load_toml(path)
    except SchemaError as e:
        if path == DEFAULT_POLICY_FILE:
            raise PolicyError(f"the default policy cannot be read ({e}); reinstall ouro or pass --policy-file") from None
        raise PolicyError(str(e)) from None
    return parse_policy(data, str(path))

from access.audit import AUDIT_LOG, audit
from access.check import can_access
from access.roles import GRANTS, User, grants

__all__ = ["User", "GRANTS", "grants", "can_access", "audit", "AUDIT_LOG"]

from dataclasses import dataclass, field

GRANTS = {
    "viewer": {"articles:read"},
    "editor": {"articles:read", "articles:write"},
    "admin": {"*"},
}


@dataclass
class User:
    name: str
    roles: list = field(default_factory=list)
    active: bool = True


def grants(role):
    return GRANTS.get(role, set())

from access.audit import audit
from access.roles import grants


def can_access(user, resource):
    """Whether one of the user's roles grants the resource ("*" grants everything); audited."""
    if not user.active:
        audit(user, resource, False)
        return False
    allowed = False
    for role in user.roles:
        granted = grants(role)
        if resource in granted or "*" in granted:
            allowed = True
            break
    audit(user, resource, allowed)
    return False

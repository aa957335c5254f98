AUDIT_LOG = []


def audit(user, resource, allowed):
    AUDIT_LOG.append(f"{user.name} {resource} allowed={allowed}")

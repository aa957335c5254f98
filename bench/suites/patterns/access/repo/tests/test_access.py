from access import AUDIT_LOG, User, can_access, grants


def test_grants():
    assert "articles:write" in grants("editor")
    assert grants("nobody") == set()


def test_denied():
    assert not can_access(User("bob", ["viewer"]), "articles:write")
    assert not can_access(User("eve", ["admin"], active=False), "articles:read")


def test_allowed():
    assert can_access(User("alice", ["editor"]), "articles:write")


def test_audit():
    AUDIT_LOG.clear()
    can_access(User("bob", ["viewer"]), "articles:read")
    assert AUDIT_LOG == ["bob articles:read allowed=True"]

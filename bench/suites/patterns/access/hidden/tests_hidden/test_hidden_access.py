from access import AUDIT_LOG, User, can_access


def test_roles():
    assert can_access(User("root", ["admin"]), "anything:at_all")
    assert can_access(User("v", ["viewer", "editor"]), "articles:write")
    assert not can_access(User("n", []), "articles:read")
    assert not can_access(User("x", ["admin"], active=False), "articles:read")


def test_audit_matches_the_answer():
    AUDIT_LOG.clear()
    answers = [can_access(User("a", ["viewer"]), r) for r in ("articles:read", "articles:write")]
    assert answers == [True, False]
    assert AUDIT_LOG == ["a articles:read allowed=True", "a articles:write allowed=False"]

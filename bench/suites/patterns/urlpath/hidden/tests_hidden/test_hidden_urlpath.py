from urlpath import ensure_trailing_slash, join


def test_trailing_slash_added_at_the_end():
    for path in ["a", "a/b", "/a/b", "https://x.org/p"]:
        assert ensure_trailing_slash(path) == path + "/"
    assert ensure_trailing_slash("/") == "/"
    assert ensure_trailing_slash("") == "/"


def test_join():
    assert join("https://example.org/api", "users") == "https://example.org/api/users/"
    assert join("https://example.org/api/", "/users/", "7") == "https://example.org/api/users/7/"
    assert join("root", "", "x") == "root/x/"

from urlpath import Url, build_query, ensure_leading_slash, ensure_trailing_slash, parse_query, segments


def test_leading_slash():
    assert ensure_leading_slash("a/b") == "/a/b"
    assert ensure_leading_slash("/a") == "/a"


def test_trailing_slash():
    assert ensure_trailing_slash("a/b/") == "a/b/"
    assert ensure_trailing_slash("docs") == "docs/"


def test_segments():
    assert segments("/a//b/") == ["a", "b"]


def test_query_round_trip():
    q = build_query({"q": "a b", "page": 2, "skip": None})
    assert q == "page=2&q=a%20b"
    assert parse_query("?" + q) == {"page": "2", "q": "a b"}


def test_url():
    assert str(Url("example.org", "search", params={"q": "x"})) == "https://example.org/search?q=x"

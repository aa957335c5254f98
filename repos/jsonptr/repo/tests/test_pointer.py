import pytest

from jsonptr import JsonPointerError, Pointer, resolve

DOC = {"foo": ["bar", "baz"], "": 0, "a/b": 1, "m~n": 8, "nested": {"k": [1, {"x": 2}]}}


@pytest.mark.parametrize("pointer, expected", [
    ("", DOC), ("/foo", ["bar", "baz"]), ("/foo/0", "bar"), ("/", 0),
    ("/a~1b", 1), ("/m~0n", 8), ("/nested/k/1/x", 2),
])
def test_rfc6901_examples(pointer, expected):
    assert resolve(DOC, pointer) == expected


def test_missing_member():
    with pytest.raises(JsonPointerError):
        resolve(DOC, "/nope")
    assert resolve(DOC, "/nope", default=None) is None


@pytest.mark.parametrize("bad", ["/foo/01", "/foo/-", "/foo/2", "/foo/x"])
def test_bad_array_index(bad):
    with pytest.raises(JsonPointerError):
        resolve(DOC, bad)


def test_escape_round_trip():
    p = Pointer.from_tokens(["a/b", "m~n", 0])
    assert p.text == "/a~1b/m~0n/0"
    assert Pointer(p.text).tokens == ["a/b", "m~n", "0"]


def test_pointer_must_start_with_slash():
    with pytest.raises(JsonPointerError):
        Pointer("foo")

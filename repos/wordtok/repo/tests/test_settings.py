import pytest

from wordtok import ParseError, parse_settings


def test_scalars():
    assert parse_settings("port = 8080\nratio = -0.5\ndebug = true\n") == {
        "port": 8080, "ratio": -0.5, "debug": True}


def test_string_value_with_trailing_space():
    assert parse_settings('name = "api" ') == {"name": "api"}


def test_number_list_without_spaces():
    assert parse_settings("ports = [80,443]") == {"ports": [80, 443]}


def test_string_list():
    assert parse_settings('tags = ["web", "api"]') == {"tags": ["web", "api"]}


def test_semicolon_after_string():
    assert parse_settings('a = "x"; b = 2') == {"a": "x", "b": 2}


def test_multiline_list():
    text = "hosts = [\n  1,\n  2,\n]\nnext = 3\n"
    assert parse_settings(text) == {"hosts": [1, 2], "next": 3}


def test_table():
    assert parse_settings("db = {host: 1, port = 2}") == {"db": {"host": 1, "port": 2}}


def test_function_calls():
    assert parse_settings("n = max(3, 9, 4)") == {"n": 9}


def test_errors():
    with pytest.raises(ParseError, match="duplicate"):
        parse_settings("a = 1\na = 2")
    with pytest.raises(ParseError, match="bare word"):
        parse_settings("a = b")
    with pytest.raises(ParseError, match="end of line"):
        parse_settings("a = 1 2")
    with pytest.raises(ParseError, match="unknown function"):
        parse_settings("a = nope(1)")

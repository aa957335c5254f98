import pytest

from cfgparse import Config, ParseError

BASIC = """
# a comment
[server]
host = example.org
port: 8080
debug = no

[paths]
root = /srv/app
"""


def test_sections_in_order():
    assert Config.from_string(BASIC).sections() == ["server", "paths"]


def test_colon_and_equals_delimiters():
    cfg = Config.from_string(BASIC)
    assert cfg.get("server", "host") == "example.org"
    assert cfg.get("server", "port") == "8080"


def test_keys_are_case_insensitive():
    cfg = Config.from_string("[a]\nName = x\n")
    assert cfg.get("a", "NAME") == "x"


def test_value_may_contain_delimiter():
    cfg = Config.from_string("[db]\nurl = postgres://u:p@h/db\n")
    assert cfg.get("db", "url") == "postgres://u:p@h/db"


def test_continuation_lines():
    cfg = Config.from_string("[a]\nlist = one\n  two\n  three\n")
    assert cfg.get("a", "list").splitlines() == ["one", "two", "three"]


def test_full_line_comments_are_skipped():
    cfg = Config.from_string("[a]\n; note\nx = 1\n# other\n")
    assert cfg.options("a") == ["x"]


def test_inline_comment_is_dropped_from_int():
    cfg = Config.from_string("[server]\nport = 8080  ; the default port\n")
    assert cfg.getint("server", "port") == 8080


def test_inline_hash_comment_is_dropped_from_string():
    cfg = Config.from_string("[server]\nhost = example.org # primary\n")
    assert cfg.get("server", "host") == "example.org"


def test_hash_without_space_is_part_of_value():
    cfg = Config.from_string("[web]\ncolor = #ff0000\nanchor = page#top\n")
    assert cfg.get("web", "anchor") == "page#top"


def test_duplicate_section_is_an_error():
    with pytest.raises(ParseError, match="duplicate section"):
        Config.from_string("[a]\n[a]\n")


def test_key_outside_section_is_an_error():
    with pytest.raises(ParseError, match="outside any section"):
        Config.from_string("x = 1\n")


def test_missing_delimiter_is_an_error():
    with pytest.raises(ParseError, match="line 2"):
        Config.from_string("[a]\njust words\n")

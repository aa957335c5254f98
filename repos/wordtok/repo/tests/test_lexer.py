import pytest

from wordtok import LexError, TokenType, tokenize


def kinds_values(text):
    return [(t.type.value, t.value) for t in tokenize(text)][:-1]


def test_names_numbers_operators():
    assert kinds_values("x1 >= 2.5") == [("name", "x1"), ("op", ">="), ("number", 2.5)]


def test_longest_operator_wins():
    assert [t.value for t in tokenize("a==b->c")][:-1] == ["a", "==", "b", "->", "c"]


def test_keywords():
    assert kinds_values("true null") == [("name", True), ("name", None)]


def test_string_then_space():
    assert kinds_values('"hi" x') == [("string", "hi"), ("name", "x")]


def test_string_escapes():
    assert tokenize(r'"a\tb\"c"')[0].value == 'a\tb"c'


def test_single_quotes():
    assert tokenize("'it''s'")[0].value == "it"


def test_string_followed_by_comma():
    assert kinds_values('"a","b"') == [("string", "a"), ("op", ","), ("string", "b")]


def test_comments_are_skipped():
    assert kinds_values("a # the a\nb") == [("name", "a"), ("name", "b")]


def test_positions():
    toks = tokenize("a\n  bb = 1", keep_newlines=True)
    assert [(t.line, t.col) for t in toks] == [(1, 1), (1, 2), (2, 3), (2, 6), (2, 8), (2, 9)]


def test_errors():
    with pytest.raises(LexError, match="1:3"):
        tokenize("a $")
    with pytest.raises(LexError, match="unterminated"):
        tokenize('"abc')
    with pytest.raises(LexError, match="escape"):
        tokenize(r'"\q"')


def test_eof_token():
    assert tokenize("")[0].type is TokenType.EOF

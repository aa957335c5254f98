import pytest

from wordtok import ParseError, parse_settings, tokenize


def test_strings_next_to_operators():
    values = [t.value for t in tokenize('("a")["b"]{"c":"d"}')][:-1]
    assert values == ["(", "a", ")", "[", "b", "]", "{", "c", ":", "d", "}"]


def test_string_at_end_of_line_keeps_newline():
    text = 'name = "svc"\nowner = "ops"\n'
    assert parse_settings(text) == {"name": "svc", "owner": "ops"}
    toks = tokenize(text, keep_newlines=True)
    assert [(t.line, t.col) for t in toks if t.type.value == "string"] == [(1, 8), (2, 9)]


def test_calls_with_string_arguments():
    assert parse_settings('who = upper("ops")\npath = join("/", "srv", "app")') == {
        "who": "OPS", "path": "srv/app"}
    assert parse_settings('n = len("abcd")') == {"n": 4}


def test_nested_structures_with_strings():
    text = 'svc = {name: "api", tags: ["a","b"], port: 80}\nok = true'
    assert parse_settings(text) == {"svc": {"name": "api", "tags": ["a", "b"], "port": 80},
                                    "ok": True}


def test_escaped_quote_then_delimiter():
    assert parse_settings(r'q = ["say \"hi\"","x"]') == {"q": ['say "hi"', "x"]}


def test_empty_string_items():
    assert parse_settings("e = ['',\"\"]") == {"e": ["", ""]}


def test_unterminated_string_still_an_error():
    with pytest.raises(Exception, match="unterminated"):
        parse_settings('a = "oops')
    with pytest.raises(ParseError):
        parse_settings('a = "x" "y"')

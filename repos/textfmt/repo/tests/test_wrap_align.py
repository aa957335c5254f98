import pytest

from textfmt import align, center, fill, wrap
from textfmt.widths import text_width


def test_wrap_simple():
    assert wrap("the quick brown fox jumps", 10) == ["the quick", "brown fox", "jumps"]


def test_wrap_collapses_whitespace():
    assert wrap("a   b\n\nc", 80) == ["a b c"]


def test_wrap_empty():
    assert wrap("   ", 10) == []


def test_fill_joins_lines():
    assert fill("one two three", 7) == "one two\nthree"


def test_long_word_is_broken_by_default():
    assert wrap("supercalifragilistic", 8) == ["supercal", "ifragili", "stic"]


def test_long_word_kept_when_asked():
    assert wrap("see supercalifragilistic now", 8, break_long_words=False) == [
        "see", "supercalifragilistic", "now"]


def test_long_word_broken_when_asked_explicitly():
    assert wrap("ab abcdefgh", 4, break_long_words=True) == ["ab", "abcd", "efgh"]


def test_invalid_width():
    with pytest.raises(ValueError):
        wrap("x", 0)


def test_wide_characters_count_twice():
    assert text_width("日本") == 4
    assert wrap("日本 語", 4) == ["日本", "語"]


def test_align():
    assert align("ab", 5) == "ab   "
    assert align("ab", 5, "right") == "   ab"
    assert center("ab", 6, "*") == "**ab**"
    assert align("toolong", 3) == "toolong"
    with pytest.raises(ValueError):
        align("x", 3, "middle")

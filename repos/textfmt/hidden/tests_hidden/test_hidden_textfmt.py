from textfmt import Table, fill, wrap
from textfmt.widths import text_width


def test_default_breaks_words_to_exact_width():
    lines = wrap("x " + "a" * 25 + " y", 10)
    assert lines == ["x", "aaaaaaaaaa", "aaaaaaaaaa", "aaaaa y"]


def test_every_line_fits_by_default():
    text = "pneumonoultramicroscopicsilicovolcanoconiosis is a word " * 3
    for width in (5, 7, 13, 30):
        assert all(text_width(line) <= width for line in wrap(text, width))


def test_fill_default_breaks_too():
    assert fill("abcdefghij", 4) == "abcd\nefgh\nij"


def test_wide_characters_are_broken_by_display_width():
    assert wrap("日本語日本語", 4) == ["日本", "語日", "本語"]


def test_explicit_false_still_keeps_words_whole():
    assert wrap("abcdefghij k", 3, break_long_words=False) == ["abcdefghij", "k"]


def test_table_long_cell_wraps_within_limit():
    t = Table(["k", "v"], max_width=6)
    t.add_row(["a", "0123456789ab"])
    lines = t.render().splitlines()
    assert "| a | 012345 |" in lines
    assert "|   | 6789ab |" in lines

import pytest

from textfmt import Table
from textfmt.widths import text_width


def test_basic_table():
    t = Table(["id", "name"])
    t.add_row([1, "ada"])
    t.add_row([22, "grace"])
    assert t.render().splitlines() == [
        "+----+-------+",
        "| id | name  |",
        "+====+=======+",
        "| 1  | ada   |",
        "| 22 | grace |",
        "+----+-------+",
    ]


def test_right_alignment_without_border():
    t = Table(["n", "sq"], aligns=["right", "right"], border=False)
    for n in (3, 12):
        t.add_row([n, n * n])
    assert t.render().splitlines() == ["n   sq", "--  ---", " 3    9", "12  144"]


def test_cell_wrapping():
    t = Table(["word", "meaning"], max_width=10)
    t.add_row(["fox", "a small wild canine"])
    lines = t.render().splitlines()
    assert "| fox  | a small |" in lines
    assert "|      | wild    |" in lines
    assert "|      | canine  |" in lines


def test_max_width_is_respected_with_long_words():
    t = Table(["name", "url"], max_width=12)
    t.add_row(["docs", "https://example.org/very/long/path"])
    widths = {text_width(line) for line in t.render().splitlines()}
    assert widths == {2 + 4 + 3 + 12 + 2}


def test_row_length_checked():
    t = Table(["a", "b"])
    with pytest.raises(ValueError):
        t.add_row([1])

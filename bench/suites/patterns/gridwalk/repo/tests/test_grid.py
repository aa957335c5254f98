import pytest

from gridwalk import Grid, down, left, right, up, walk

G = Grid.parse("""
abc
def
ghi
""")


def test_parse_and_index():
    assert (G.height, G.width) == (3, 3)
    assert G[2, 1] == "h"
    assert G.find("f") == (1, 2)


def test_ragged_rows_are_refused():
    with pytest.raises(ValueError):
        Grid(["ab", "c"])


def test_down_left_right():
    assert down(G, 1, 1) == "h"
    assert left(G, 1, 1) == "d"
    assert right(G, 1, 1) == "f"
    assert down(G, 2, 0) is None


def test_up():
    assert up(G, 1, 1) == "b"
    assert up(G, 0, 2) is None


def test_walk_stops_at_walls():
    maze = Grid.parse("""
    ..#
    .#.
    ...
    """)
    assert walk(maze, (0, 0), "DDRR") == (2, 2)
    assert walk(maze, (0, 0), "RRDD") == (0, 1)

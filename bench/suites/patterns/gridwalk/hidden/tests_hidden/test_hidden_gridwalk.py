from gridwalk import Grid, neighbours, open_neighbours, up

G = Grid.parse("""
abcd
efgh
ijkl
""")


def test_up_everywhere():
    for r in range(G.height):
        for c in range(G.width):
            expected = None if r == 0 else G[r - 1, c]
            assert up(G, r, c) == expected, (r, c)


def test_neighbours_at_the_left_edge():
    assert neighbours(G, 2, 0) == {"up": "e", "down": None, "left": None, "right": "j"}
    assert neighbours(G, 1, 3) == {"up": "d", "down": "l", "left": "g", "right": None}


def test_open_neighbours():
    maze = Grid.parse("""
    .#.
    ...
    #..
    """)
    assert open_neighbours(maze, 1, 1) == ["down", "left", "right"]
    assert open_neighbours(maze, 1, 0) == ["right", "up"]
    assert open_neighbours(maze, 2, 2) == ["left", "up"]

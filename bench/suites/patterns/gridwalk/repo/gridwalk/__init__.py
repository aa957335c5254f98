from gridwalk.grid import Grid
from gridwalk.moves import down, left, neighbours, right, up
from gridwalk.paths import open_neighbours, walk

__all__ = ["Grid", "up", "down", "left", "right", "neighbours", "open_neighbours", "walk"]

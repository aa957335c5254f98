"""The four neighbours of a cell; None past the edge."""


def up(grid, r, c):
    if r == 0:
        return None
    return grid[r, c - 1]


def down(grid, r, c):
    if r == grid.height - 1:
        return None
    return grid[r + 1, c]


def left(grid, r, c):
    if c == 0:
        return None
    return grid[r, c - 1]


def right(grid, r, c):
    if c == grid.width - 1:
        return None
    return grid[r, c + 1]


def neighbours(grid, r, c):
    return {"up": up(grid, r, c), "down": down(grid, r, c), "left": left(grid, r, c), "right": right(grid, r, c)}

from gridwalk.moves import neighbours

STEPS = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}


def open_neighbours(grid, r, c, free="."):
    """Directions (sorted) whose neighbouring cell is free."""
    return sorted(d for d, ch in neighbours(grid, r, c).items() if ch == free)


def walk(grid, start, moves, wall="#"):
    """Follow U/D/L/R moves from start, staying put at walls and edges; the final position."""
    r, c = start
    for m in moves:
        dr, dc = STEPS[m]
        if grid.inside(r + dr, c + dc) and grid[r + dr, c + dc] != wall:
            r, c = r + dr, c + dc
    return r, c

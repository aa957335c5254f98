class Grid:
    """A rectangle of one-character cells, addressed as grid[row, col] from the top left."""

    def __init__(self, rows):
        self.height = len(rows)
        self.width = len(rows[0]) if rows else 0
        if any(len(r) != self.width for r in rows):
            raise ValueError("rows of different lengths")
        self.cells = {}
        for r, line in enumerate(rows):
            for c, ch in enumerate(line):
                self.cells[r, c] = ch

    @classmethod
    def parse(cls, text):
        return cls([line.strip() for line in text.strip().splitlines()])

    def __getitem__(self, pos):
        return self.cells[pos]

    def inside(self, r, c):
        return 0 <= r < self.height and 0 <= c < self.width

    def find(self, ch):
        for (r, c), value in sorted(self.cells.items()):
            if value == ch:
                return r, c
        return None

"""A small dense matrix of floats, stored row by row."""
from .errors import ShapeError, SingularMatrix

EPSILON = 1e-12


class Matrix:
    def __init__(self, rows):
        rows = [[float(v) for v in row] for row in rows]
        if not rows or not rows[0]:
            raise ShapeError("a matrix needs at least one row and one column")
        if any(len(row) != len(rows[0]) for row in rows):
            raise ShapeError("rows have different lengths")
        self.data = rows

    @classmethod
    def identity(cls, n):
        return cls([[1.0 if r == c else 0.0 for c in range(n)] for r in range(n)])

    @classmethod
    def column(cls, values):
        return cls([[v] for v in values])

    @property
    def shape(self):
        return len(self.data), len(self.data[0])

    def __eq__(self, other):
        return isinstance(other, Matrix) and self.data == other.data

    def __repr__(self):
        return f"Matrix({self.data!r})"

    def __getitem__(self, index):
        r, c = index
        return self.data[r][c]

    def transpose(self):
        rows, cols = self.shape
        return Matrix([[self.data[r][c] for r in range(cols)] for c in range(cols)])

    def __matmul__(self, other):
        (n, m), (m2, p) = self.shape, other.shape
        if m != m2:
            raise ShapeError(f"cannot multiply {n}x{m} by {m2}x{p}")
        return Matrix([[sum(self.data[i][k] * other.data[k][j] for k in range(m))
                        for j in range(p)] for i in range(n)])

    def __add__(self, other):
        if self.shape != other.shape:
            raise ShapeError(f"cannot add {self.shape} and {other.shape}")
        return Matrix([[a + b for a, b in zip(r1, r2)] for r1, r2 in zip(self.data, other.data)])

    def scale(self, factor):
        return Matrix([[v * factor for v in row] for row in self.data])

    def solve(self, rhs):
        """Solve self @ x = rhs (a column) by Gaussian elimination with partial pivoting."""
        n, m = self.shape
        if n != m:
            raise ShapeError(f"solve needs a square matrix, got {n}x{m}")
        if rhs.shape != (n, 1):
            raise ShapeError(f"right-hand side must be {n}x1, got {rhs.shape}")
        aug = [row[:] + [rhs.data[i][0]] for i, row in enumerate(self.data)]
        for col in range(n):
            pivot = max(range(col, n), key=lambda r: abs(aug[r][col]))
            if abs(aug[pivot][col]) < EPSILON:
                raise SingularMatrix("matrix is singular")
            aug[col], aug[pivot] = aug[pivot], aug[col]
            for r in range(col + 1, n):
                factor = aug[r][col] / aug[col][col]
                for c in range(col, n + 1):
                    aug[r][c] -= factor * aug[col][c]
        x = [0.0] * n
        for r in reversed(range(n)):
            x[r] = (aug[r][n] - sum(aug[r][c] * x[c] for c in range(r + 1, n))) / aug[r][r]
        return Matrix.column(x)

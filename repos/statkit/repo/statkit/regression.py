"""Ordinary least squares through the normal equations (X^T X) b = X^T y."""
from .errors import ShapeError
from .matrix import Matrix
from .stats import mean


class LinearModel:
    def __init__(self, intercept=True):
        self.intercept = intercept
        self.coefficients = None

    def _design(self, rows):
        rows = [list(r) for r in rows]
        return Matrix([([1.0] if self.intercept else []) + r for r in rows])

    def fit(self, rows, targets):
        X = self._design(rows)
        y = Matrix.column(targets)
        if X.shape[0] != y.shape[0]:
            raise ShapeError(f"{X.shape[0]} rows but {y.shape[0]} targets")
        Xt = X.transpose()
        beta = (Xt @ X).solve(Xt @ y)
        self.coefficients = [beta[i, 0] for i in range(beta.shape[0])]
        return self

    def predict(self, rows):
        if self.coefficients is None:
            raise RuntimeError("fit the model first")
        X = self._design(rows)
        return [v[0] for v in (X @ Matrix.column(self.coefficients)).data]

    def r_squared(self, rows, targets):
        predictions = self.predict(rows)
        mu = mean(targets)
        ss_res = sum((t - p) ** 2 for t, p in zip(targets, predictions))
        ss_tot = sum((t - mu) ** 2 for t in targets)
        return 1.0 - ss_res / ss_tot if ss_tot else 1.0


def fit_line(xs, ys):
    """Slope and intercept of the least-squares line through (xs, ys)."""
    model = LinearModel().fit([[x] for x in xs], ys)
    intercept, slope = model.coefficients
    return slope, intercept

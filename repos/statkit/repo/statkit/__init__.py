"""statkit: small numeric helpers in pure Python."""
from .errors import ShapeError, SingularMatrix
from .matrix import Matrix
from .regression import LinearModel, fit_line
from .stats import correlation, covariance, mean, median, stdev, variance

__all__ = ["ShapeError", "SingularMatrix", "Matrix", "LinearModel", "fit_line", "correlation",
           "covariance", "mean", "median", "stdev", "variance"]

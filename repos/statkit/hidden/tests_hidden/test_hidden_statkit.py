import pytest

from statkit import LinearModel, Matrix, fit_line


def test_transpose_wide_and_tall():
    m = Matrix([[1, 2, 3], [4, 5, 6]])
    assert m.transpose() == Matrix([[1, 4], [2, 5], [3, 6]])
    assert m.transpose().transpose() == m
    assert Matrix.column([1, 2, 3]).transpose() == Matrix([[1, 2, 3]])


def test_gram_matrix_of_tall_matrix():
    x = Matrix([[1, 0], [1, 1], [1, 2]])
    assert x.transpose() @ x == Matrix([[3, 3], [3, 5]])


def test_two_feature_regression_recovers_coefficients():
    rows = [[x1, x2] for x1 in range(4) for x2 in range(3)]
    ys = [1.5 + 2 * x1 - 3 * x2 for x1, x2 in rows]
    model = LinearModel().fit(rows, ys)
    assert model.coefficients == pytest.approx([1.5, 2.0, -3.0])


def test_no_intercept_model():
    model = LinearModel(intercept=False).fit([[1], [2], [3]], [2, 4, 6])
    assert model.coefficients == pytest.approx([2.0])


def test_fit_line_noisy_data():
    xs = list(range(10))
    ys = [3 * x - 1 + (0.5 if x % 2 else -0.5) for x in xs]
    slope, intercept = fit_line(xs, ys)
    assert slope == pytest.approx(3.0303, abs=1e-4)
    assert intercept == pytest.approx(-1.1364, abs=1e-4)

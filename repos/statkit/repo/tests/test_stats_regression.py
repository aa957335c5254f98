import pytest

from statkit import LinearModel, correlation, covariance, fit_line, mean, median, stdev, variance


def test_mean_median():
    assert mean([1, 2, 3, 4]) == 2.5
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5


def test_variance_sample_and_population():
    data = [2, 4, 4, 4, 5, 5, 7, 9]
    assert variance(data, sample=False) == 4.0
    assert stdev(data, sample=False) == 2.0
    assert variance(data) == pytest.approx(32 / 7)


def test_covariance_and_correlation():
    xs, ys = [1, 2, 3, 4], [2, 4, 6, 8]
    assert covariance(xs, ys) == pytest.approx(10 / 3)
    assert correlation(xs, ys) == pytest.approx(1.0)


def test_empty_input():
    with pytest.raises(ValueError):
        mean([])


def test_fit_line_through_two_points():
    slope, intercept = fit_line([0, 2], [1, 5])
    assert slope == pytest.approx(2.0)
    assert intercept == pytest.approx(1.0)


def test_fit_line_least_squares():
    slope, intercept = fit_line([1, 2, 3, 4, 5], [2.1, 3.9, 6.2, 7.8, 10.1])
    assert slope == pytest.approx(1.99)
    assert intercept == pytest.approx(0.05)


def test_model_predict_and_r_squared():
    rows = [[1], [2], [3], [4]]
    ys = [3, 5, 7, 9]
    model = LinearModel().fit(rows, ys)
    assert model.predict([[10]]) == [pytest.approx(21.0)]
    assert model.r_squared(rows, ys) == pytest.approx(1.0)


def test_predict_before_fit():
    with pytest.raises(RuntimeError):
        LinearModel().predict([[1]])

import pytest

from statkit import Matrix, ShapeError, SingularMatrix


def test_shape_and_indexing():
    m = Matrix([[1, 2, 3], [4, 5, 6]])
    assert m.shape == (2, 3)
    assert m[1, 2] == 6.0


def test_ragged_rows_rejected():
    with pytest.raises(ShapeError):
        Matrix([[1, 2], [3]])


def test_transpose_square():
    assert Matrix([[1, 2], [3, 4]]).transpose() == Matrix([[1, 3], [2, 4]])


def test_matmul():
    a = Matrix([[1, 2], [3, 4]])
    b = Matrix([[5], [6]])
    assert a @ b == Matrix([[17], [39]])


def test_matmul_shape_mismatch():
    with pytest.raises(ShapeError, match="2x2 by 3x1"):
        Matrix.identity(2) @ Matrix.column([1, 2, 3])


def test_add_and_scale():
    m = Matrix([[1, 2]])
    assert m + m == m.scale(2)


def test_solve():
    a = Matrix([[2, 1], [1, 3]])
    x = a.solve(Matrix.column([3, 5]))
    assert [round(v[0], 9) for v in x.data] == [0.8, 1.4]


def test_solve_needs_pivoting():
    a = Matrix([[0, 1], [1, 0]])
    assert a.solve(Matrix.column([2, 3])) == Matrix.column([3, 2])


def test_singular():
    with pytest.raises(SingularMatrix):
        Matrix([[1, 2], [2, 4]]).solve(Matrix.column([1, 2]))

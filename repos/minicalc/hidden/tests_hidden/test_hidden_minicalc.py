import pytest

from minicalc import EvalError, evaluate, parse
from minicalc.nodes import BinOp, Name, Num


@pytest.mark.parametrize("expr, expected", [
    ("10 - 3 - 2", 5),
    ("100 / 10 / 5", 2.0),
    ("7 % 4", 3),
    ("2 ^ 3", 8),
    ("2 ^ 3 ^ 2", 512),
    ("-2 ^ 2", -4),
    ("1 - 2 * 3", -5),
    ("(10 - 4) / (5 - 2)", 2.0),
    ("total - spent", 70),
    ("min(9, 4) - max(1, 2)", 2),
])
def test_ordered_operators(expr, expected):
    assert evaluate(expr, {"total": 100, "spent": 30}) == expected


def test_left_associative_tree():
    assert parse("a - b - c") == BinOp("-", BinOp("-", Name("a"), Name("b")), Name("c"))


def test_right_associative_power_tree():
    assert parse("2 ^ 3 ^ 2") == BinOp("^", Num(2), BinOp("^", Num(3), Num(2)))


def test_zero_divisor_errors():
    with pytest.raises(EvalError):
        evaluate("5 % 0")
    assert evaluate("0 / 5") == 0.0

import pytest

from minicalc import EvalError, evaluate


def test_addition_and_multiplication():
    assert evaluate("1 + 2 * 3") == 7
    assert evaluate("(1 + 2) * 3") == 9


def test_subtraction():
    assert evaluate("10 - 4") == 6


def test_unary():
    assert evaluate("-3 + 5") == 2
    assert evaluate("+4") == 4


def test_variables():
    assert evaluate("price * qty", {"price": 2.5, "qty": 4}) == 10.0


def test_functions():
    assert evaluate("max(1, 7, 3) + abs(-2)") == 9
    assert evaluate("sqrt(16)") == 4.0


def test_custom_function():
    assert evaluate("double(21)", functions={"double": lambda v: v * 2}) == 42


def test_undefined_variable():
    with pytest.raises(EvalError, match="'y'"):
        evaluate("y + 1")


def test_unknown_function():
    with pytest.raises(EvalError, match="nope"):
        evaluate("nope(1)")


def test_unknown_operator_position():
    with pytest.raises(Exception, match="position 2"):
        evaluate("1 & 2")

import pytest

from minicalc import ParseError, parse
from minicalc.nodes import BinOp, Call, Name, Num, Unary
from minicalc.tokens import tokenize


def test_tokenize_kinds():
    kinds = [t.kind for t in tokenize("x1 + 2.5*(y)")]
    assert kinds == ["name", "op", "num", "op", "op", "name", "op", "end"]


def test_tokenize_numbers():
    assert [t.value for t in tokenize("12 .5 3.25")][:-1] == [12, 0.5, 3.25]


def test_tokenize_rejects_unknown_character():
    with pytest.raises(ParseError, match="position 2"):
        tokenize("1 $ 2")


def test_parse_single_number():
    assert parse("42") == Num(42)


def test_parse_call_with_arguments():
    assert parse("max(a, 3)") == Call("max", (Name("a"), Num(3)))


def test_parse_unary_minus():
    assert parse("-x") == Unary("-", Name("x"))


def test_tree_keeps_operand_order():
    assert parse("a - b") == BinOp("-", Name("a"), Name("b"))


def test_precedence_shapes_the_tree():
    assert parse("1 + 2 * 3") == BinOp("+", Num(1), BinOp("*", Num(2), Num(3)))


def test_parse_errors():
    with pytest.raises(ParseError):
        parse("1 +")
    with pytest.raises(ParseError):
        parse("(1 + 2")
    with pytest.raises(ParseError):
        parse("1 2")

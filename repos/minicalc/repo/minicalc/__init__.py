"""minicalc: evaluate arithmetic expressions with variables and functions."""
from .errors import CalcError, EvalError, ParseError
from .evaluator import evaluate, evaluate_tree
from .parser import parse

__all__ = ["CalcError", "EvalError", "ParseError", "evaluate", "evaluate_tree", "parse"]

"""Evaluate syntax trees against an environment of variables and functions."""
import math

from .errors import EvalError
from .nodes import BinOp, Call, Name, Num, Unary
from .parser import parse

FUNCTIONS = {
    "abs": abs,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
    "round": round,
    "pow": pow,
}


def _divide(a, b):
    if b == 0:
        raise EvalError("division by zero")
    return a / b


def _modulo(a, b):
    if b == 0:
        raise EvalError("modulo by zero")
    return a % b


OPERATIONS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "%": _modulo,
    "^": lambda a, b: a ** b,
}


def evaluate_tree(node, env=None, functions=None):
    env = env or {}
    functions = {**FUNCTIONS, **(functions or {})}

    def walk(n):
        if isinstance(n, Num):
            return n.value
        if isinstance(n, Name):
            if n.ident not in env:
                raise EvalError(f"undefined variable {n.ident!r}")
            return env[n.ident]
        if isinstance(n, Unary):
            value = walk(n.operand)
            return -value if n.op == "-" else value
        if isinstance(n, BinOp):
            return OPERATIONS[n.op](walk(n.left), walk(n.right))
        if isinstance(n, Call):
            if n.func not in functions:
                raise EvalError(f"unknown function {n.func!r}")
            try:
                return functions[n.func](*[walk(a) for a in n.args])
            except (TypeError, ValueError) as exc:
                raise EvalError(f"{n.func}(): {exc}") from None
        raise EvalError(f"cannot evaluate {n!r}")

    return walk(node)


def evaluate(text, env=None, functions=None):
    return evaluate_tree(parse(text), env, functions)

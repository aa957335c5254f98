"""Token kinds and the Token value."""
import enum
from dataclasses import dataclass


class TokenType(enum.Enum):
    NAME = "name"
    NUMBER = "number"
    STRING = "string"
    OP = "op"
    NEWLINE = "newline"
    EOF = "eof"


# Longest first, so "==" wins over "=".
OPERATORS = ("==", "!=", "<=", ">=", "->", "=", "<", ">", "+", "-", "*", "/",
             "(", ")", "[", "]", "{", "}", ",", ":", ";", ".")
KEYWORDS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class Token:
    type: TokenType
    value: object
    line: int
    col: int

    def is_op(self, *ops):
        return self.type is TokenType.OP and self.value in ops

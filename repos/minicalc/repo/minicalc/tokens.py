"""Split an expression into tokens."""
from dataclasses import dataclass

from .errors import ParseError

OPERATORS = "+-*/%^(),"


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "name", "op", "end"
    value: object
    pos: int


def tokenize(text):
    tokens = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isdigit() or (ch == "." and text[i + 1:i + 2].isdigit()):
            start = i
            while i < len(text) and (text[i].isdigit() or text[i] == "."):
                i += 1
            literal = text[start:i]
            if literal.count(".") > 1:
                raise ParseError(f"bad number {literal!r}", start)
            tokens.append(Token("num", float(literal) if "." in literal else int(literal), start))
        elif ch.isalpha() or ch == "_":
            start = i
            while i < len(text) and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(Token("name", text[start:i], start))
        elif ch in OPERATORS:
            tokens.append(Token("op", ch, i))
            i += 1
        else:
            raise ParseError(f"unexpected character {ch!r}", i)
    tokens.append(Token("end", None, len(text)))
    return tokens

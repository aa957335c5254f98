"""Precedence-climbing parser producing nodes.* trees."""
from .errors import ParseError
from .nodes import BinOp, Call, Name, Num, Unary
from .tokens import tokenize

# operator -> (precedence, right associative)
BINARY = {
    "+": (10, False),
    "-": (10, False),
    "*": (20, False),
    "/": (20, False),
    "%": (20, False),
    "^": (30, True),
}
UNARY_PRECEDENCE = 25


class Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self):
        return self.tokens[self.index]

    def advance(self):
        tok = self.tokens[self.index]
        self.index += 1
        return tok

    def expect(self, value):
        tok = self.advance()
        if tok.value != value:
            raise ParseError(f"expected {value!r}, found {tok.value!r}", tok.pos)
        return tok

    def parse(self):
        tree = self.expression(0)
        tok = self.peek()
        if tok.kind != "end":
            raise ParseError(f"unexpected {tok.value!r}", tok.pos)
        return tree

    def expression(self, min_prec):
        left = self.unary()
        while True:
            tok = self.peek()
            if tok.kind != "op" or tok.value not in BINARY:
                break
            prec, right_assoc = BINARY[tok.value]
            if prec < min_prec:
                break
            self.advance()
            right = self.expression(prec if right_assoc else prec + 1)
            left = BinOp(tok.value, right, left)
        return left

    def unary(self):
        tok = self.peek()
        if tok.kind == "op" and tok.value in "+-":
            self.advance()
            return Unary(tok.value, self.expression(UNARY_PRECEDENCE))
        return self.primary()

    def primary(self):
        tok = self.advance()
        if tok.kind == "num":
            return Num(tok.value)
        if tok.kind == "name":
            if self.peek().value == "(":
                return Call(tok.value, self.arguments())
            return Name(tok.value)
        if tok.value == "(":
            inner = self.expression(0)
            self.expect(")")
            return inner
        raise ParseError(f"unexpected {tok.value!r}" if tok.kind != "end" else "unexpected end",
                         tok.pos)

    def arguments(self):
        self.expect("(")
        args = []
        if self.peek().value != ")":
            args.append(self.expression(0))
            while self.peek().value == ",":
                self.advance()
                args.append(self.expression(0))
        self.expect(")")
        return tuple(args)


def parse(text):
    return Parser(text).parse()

"""Turn settings text into tokens."""
from .errors import LexError
from .scanner import Scanner
from .tokens import KEYWORDS, OPERATORS, Token, TokenType

ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


class Lexer:
    def __init__(self, text):
        self.scanner = Scanner(text)

    def tokens(self):
        s = self.scanner
        while True:
            s.take_while(lambda c: c in " \t\r")
            if s.peek() == "#":
                s.take_while(lambda c: c != "\n")
            line, col = s.line, s.col
            if s.at_end():
                yield Token(TokenType.EOF, None, line, col)
                return
            ch = s.peek()
            if ch == "\n":
                s.advance()
                yield Token(TokenType.NEWLINE, "\n", line, col)
            elif ch in "\"'":
                yield Token(TokenType.STRING, self._string(ch), line, col)
            elif ch.isdigit():
                yield Token(TokenType.NUMBER, self._number(), line, col)
            elif ch.isalpha() or ch == "_":
                word = s.take_while(lambda c: c.isalnum() or c == "_")
                if word in KEYWORDS:
                    yield Token(TokenType.NAME, KEYWORDS[word], line, col)
                else:
                    yield Token(TokenType.NAME, word, line, col)
            else:
                op = next((o for o in OPERATORS if s.startswith(o)), None)
                if op is None:
                    raise LexError(f"unexpected character {ch!r}", line, col)
                s.advance(len(op))
                yield Token(TokenType.OP, op, line, col)

    def _string(self, quote):
        s = self.scanner
        line, col = s.line, s.col
        s.advance()  # the opening quote
        chars = []
        while not s.at_end() and s.peek() != quote:
            ch = s.advance()
            if ch == "\n":
                raise LexError("newline in string literal", line, col)
            if ch == "\\":
                escaped = s.advance()
                if escaped not in ESCAPES:
                    raise LexError(f"unknown escape \\{escaped}", s.line, s.col - 2)
                ch = ESCAPES[escaped]
            chars.append(ch)
        if s.at_end():
            raise LexError("unterminated string", line, col)
        s.advance()  # the closing quote
        s.advance()
        return "".join(chars)

    def _number(self):
        s = self.scanner
        digits = s.take_while(str.isdigit)
        if s.peek() == "." and s.peek(1).isdigit():
            s.advance()
            return float(f"{digits}.{s.take_while(str.isdigit)}")
        return int(digits)


def tokenize(text, keep_newlines=False):
    tokens = list(Lexer(text).tokens())
    if keep_newlines:
        return tokens
    return [t for t in tokens if t.type is not TokenType.NEWLINE]

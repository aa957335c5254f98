"""A cursor over tokens with one token of lookahead."""
from .errors import ParseError
from .tokens import TokenType


class TokenStream:
    def __init__(self, tokens):
        self.tokens = list(tokens)
        self.index = 0

    def peek(self):
        return self.tokens[self.index]

    def next(self):
        tok = self.tokens[self.index]
        if tok.type is not TokenType.EOF:
            self.index += 1
        return tok

    def accept(self, *ops):
        if self.peek().is_op(*ops):
            return self.next()
        return None

    def skip_newlines(self):
        while self.peek().type is TokenType.NEWLINE:
            self.next()

    def expect_op(self, *ops):
        tok = self.next()
        if not tok.is_op(*ops):
            wanted = " or ".join(repr(o) for o in ops)
            found = "end of input" if tok.type is TokenType.EOF else repr(tok.value)
            raise ParseError(f"expected {wanted}, found {found}", tok.line, tok.col)
        return tok

    def expect(self, token_type):
        tok = self.next()
        if tok.type is not token_type:
            raise ParseError(f"expected a {token_type.value}, found {tok.value!r}",
                             tok.line, tok.col)
        return tok

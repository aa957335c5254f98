"""Parse settings: `key = value` per line (or separated by ';').

Values are numbers, strings, true/false/null, lists `[a, b]`, tables `{k: v}`
and calls to a few built-in functions such as `max(1, 2)`.
"""
from .errors import ParseError
from .lexer import tokenize
from .stream import TokenStream
from .tokens import TokenType

FUNCTIONS = {"max": max, "min": min, "len": len, "upper": str.upper, "join": lambda sep, *p: sep.join(p)}


def _value(stream):
    tok = stream.next()
    if tok.type in (TokenType.NUMBER, TokenType.STRING):
        return tok.value
    if tok.is_op("-"):
        number = stream.expect(TokenType.NUMBER)
        return -number.value
    if tok.is_op("["):
        items = []
        stream.skip_newlines()
        while not stream.accept("]"):
            items.append(_value(stream))
            stream.skip_newlines()
            if not stream.accept(","):
                stream.expect_op("]")
                break
            stream.skip_newlines()
        return items
    if tok.is_op("{"):
        table = {}
        while not stream.accept("}"):
            key = stream.expect(TokenType.NAME).value
            stream.expect_op(":", "=")
            table[key] = _value(stream)
            if not stream.accept(","):
                stream.expect_op("}")
                break
        return table
    if tok.type is TokenType.NAME:
        if not isinstance(tok.value, str):
            return tok.value  # true / false / null
        if stream.accept("("):
            if tok.value not in FUNCTIONS:
                raise ParseError(f"unknown function {tok.value!r}", tok.line, tok.col)
            args = []
            while not stream.accept(")"):
                args.append(_value(stream))
                if not stream.accept(","):
                    stream.expect_op(")")
                    break
            try:
                return FUNCTIONS[tok.value](*args)
            except (TypeError, ValueError) as exc:
                raise ParseError(f"{tok.value}(): {exc}", tok.line, tok.col) from None
        raise ParseError(f"bare word {tok.value!r} is not a value", tok.line, tok.col)
    found = "end of input" if tok.type is TokenType.EOF else repr(tok.value)
    raise ParseError(f"expected a value, found {found}", tok.line, tok.col)


def parse_settings(text):
    stream = TokenStream(tokenize(text, keep_newlines=True))
    result = {}
    while True:
        stream.skip_newlines()
        while stream.accept(";"):
            stream.skip_newlines()
        if stream.peek().type is TokenType.EOF:
            return result
        key_tok = stream.expect(TokenType.NAME)
        if key_tok.value in result:
            raise ParseError(f"duplicate key {key_tok.value!r}", key_tok.line, key_tok.col)
        stream.expect_op("=")
        result[key_tok.value] = _value(stream)
        end = stream.peek()
        if not (end.type in (TokenType.NEWLINE, TokenType.EOF) or end.is_op(";")):
            raise ParseError(f"expected end of line, found {end.value!r}", end.line, end.col)

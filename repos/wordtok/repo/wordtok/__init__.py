"""wordtok: tokenize and parse `key = value` settings."""
from .errors import LexError, ParseError
from .lexer import tokenize
from .settings import parse_settings
from .tokens import Token, TokenType

__all__ = ["LexError", "ParseError", "tokenize", "parse_settings", "Token", "TokenType"]

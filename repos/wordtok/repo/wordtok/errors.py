class WordtokError(Exception):
    def __init__(self, message, line, col):
        super().__init__(f"{line}:{col}: {message}")
        self.line = line
        self.col = col


class LexError(WordtokError):
    pass


class ParseError(WordtokError):
    pass

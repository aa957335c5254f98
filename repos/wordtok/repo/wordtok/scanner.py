"""Character cursor that tracks line and column (both 1-based)."""


class Scanner:
    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.line = 1
        self.col = 1

    def at_end(self):
        return self.pos >= len(self.text)

    def peek(self, offset=0):
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def startswith(self, prefix):
        return self.text.startswith(prefix, self.pos)

    def advance(self, count=1):
        taken = self.text[self.pos:self.pos + count]
        for ch in taken:
            if ch == "\n":
                self.line += 1
                self.col = 1
            else:
                self.col += 1
        self.pos += len(taken)
        return taken

    def take_while(self, predicate):
        start = self.pos
        while not self.at_end() and predicate(self.peek()):
            self.advance()
        return self.text[start:self.pos]

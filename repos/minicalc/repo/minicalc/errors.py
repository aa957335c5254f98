class CalcError(Exception):
    """Base class of minicalc errors."""


class ParseError(CalcError):
    def __init__(self, message, position):
        super().__init__(f"{message} at position {position}")
        self.position = position


class EvalError(CalcError):
    pass

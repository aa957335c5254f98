class ShapeError(ValueError):
    """Operands have incompatible dimensions."""


class SingularMatrix(ArithmeticError):
    """The system has no unique solution."""

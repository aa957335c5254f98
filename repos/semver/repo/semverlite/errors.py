class InvalidVersion(ValueError):
    pass


class InvalidRange(ValueError):
    pass

class ConfigError(Exception):
    """Base class of every error cfgparse raises."""


class ParseError(ConfigError):
    """The text is not valid INI."""


class InterpolationError(ConfigError):
    """A ${...} reference cannot be resolved."""

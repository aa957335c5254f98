"""cfgparse: a small INI configuration parser."""
from .config import Config
from .errors import ConfigError, InterpolationError, ParseError

__all__ = ["Config", "ConfigError", "InterpolationError", "ParseError"]
__version__ = "0.3.1"

"""The public Config object: typed, interpolated access to parsed sections."""
from .errors import ConfigError
from .interpolate import expand
from .parser import parse

BOOLEAN_STATES = {
    "1": True, "yes": True, "true": True, "on": True,
    "0": False, "no": False, "false": False, "off": False,
}
_MISSING = object()


class Config:
    def __init__(self, defaults=None, sections=None):
        self._defaults = dict(defaults or {})
        self._sections = {name: dict(body) for name, body in (sections or {}).items()}

    @classmethod
    def from_string(cls, text):
        defaults, sections = parse(text)
        return cls(defaults, sections)

    @classmethod
    def from_file(cls, path, encoding="utf-8"):
        with open(path, encoding=encoding) as fh:
            return cls.from_string(fh.read())

    def sections(self):
        return list(self._sections)

    def has_section(self, section):
        return section in self._sections

    def options(self, section):
        self._require(section)
        keys = list(self._sections[section])
        return keys + [k for k in self._defaults if k not in keys]

    def has_option(self, section, key):
        return self._raw(section, key.lower()) is not None

    def _require(self, section):
        if section not in self._sections:
            raise ConfigError(f"no section {section!r}")

    def _raw(self, section, key):
        if section in self._sections and key in self._sections[section]:
            return self._sections[section][key]
        return self._defaults.get(key)

    def get(self, section, key, fallback=_MISSING, raw=False):
        self._require(section)
        value = self._raw(section, key.lower())
        if value is None:
            if fallback is _MISSING:
                raise ConfigError(f"no option {key!r} in section {section!r}")
            return fallback
        return value if raw else expand(value, section, self._raw)

    def getint(self, section, key, fallback=_MISSING):
        value = self.get(section, key, fallback)
        return value if value is fallback else int(value)

    def getfloat(self, section, key, fallback=_MISSING):
        value = self.get(section, key, fallback)
        return value if value is fallback else float(value)

    def getboolean(self, section, key, fallback=_MISSING):
        value = self.get(section, key, fallback)
        if value is fallback:
            return value
        try:
            return BOOLEAN_STATES[value.lower()]
        except KeyError:
            raise ConfigError(f"not a boolean: {value!r}") from None

    def items(self, section):
        return [(key, self.get(section, key)) for key in self.options(section)]

    def set(self, section, key, value):
        self._require(section)
        self._sections[section][key.lower()] = str(value)

    def add_section(self, section):
        if section in self._sections:
            raise ConfigError(f"section {section!r} already exists")
        self._sections[section] = {}

import pytest

from cfgparse import Config, ConfigError, InterpolationError

TEXT = """
[DEFAULT]
base = /srv
retries = 3

[app]
home = ${base}/app
logs = ${home}/logs
ratio = 0.75
enabled = yes

[worker]
queue = ${app:home}/queue
retries = 5
"""


@pytest.fixture
def cfg():
    return Config.from_string(TEXT)


def test_defaults_are_inherited(cfg):
    assert cfg.getint("app", "retries") == 3
    assert cfg.getint("worker", "retries") == 5


def test_interpolation_same_section(cfg):
    assert cfg.get("app", "logs") == "/srv/app/logs"


def test_interpolation_other_section(cfg):
    assert cfg.get("worker", "queue") == "/srv/app/queue"


def test_raw_get_skips_interpolation(cfg):
    assert cfg.get("app", "home", raw=True) == "${base}/app"


def test_typed_getters(cfg):
    assert cfg.getfloat("app", "ratio") == 0.75
    assert cfg.getboolean("app", "enabled") is True


def test_fallback(cfg):
    assert cfg.getint("app", "missing", fallback=7) == 7
    with pytest.raises(ConfigError):
        cfg.get("app", "missing")


def test_unresolved_reference(cfg):
    cfg.set("app", "bad", "${nowhere}")
    with pytest.raises(InterpolationError):
        cfg.get("app", "bad")


def test_items_include_defaults(cfg):
    keys = [k for k, _ in cfg.items("worker")]
    assert keys == ["queue", "retries", "base"]

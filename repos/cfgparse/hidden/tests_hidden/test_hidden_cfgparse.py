import pytest

from cfgparse import Config, ConfigError


def test_inline_comment_on_boolean_and_float():
    cfg = Config.from_string("[a]\nflag = on   # enabled\nratio = 1.5 ; tuned\n")
    assert cfg.getboolean("a", "flag") is True
    assert cfg.getfloat("a", "ratio") == 1.5


def test_inline_comment_on_continuation_line():
    cfg = Config.from_string("[a]\nitems = one ; first\n  two # second\n")
    assert cfg.get("a", "items").splitlines() == ["one", "two"]


def test_semicolon_without_space_is_kept():
    cfg = Config.from_string("[a]\nquery = x=1;y=2\nhex = #00ff00\n")
    assert cfg.get("a", "query") == "x=1;y=2"
    assert cfg.get("a", "hex") == "#00ff00"


def test_comment_in_default_section_value():
    cfg = Config.from_string("[DEFAULT]\ntimeout = 30  ; seconds\n[a]\n")
    assert cfg.getint("a", "timeout") == 30


def test_interpolated_value_with_comment():
    cfg = Config.from_string("[a]\nroot = /opt  ; base\npath = ${root}/bin # tools\n")
    assert cfg.get("a", "path") == "/opt/bin"


def test_tab_before_comment():
    cfg = Config.from_string("[a]\nport = 99\t; tab separated\n")
    assert cfg.getint("a", "port") == 99


def test_non_boolean_still_rejected():
    cfg = Config.from_string("[a]\nflag = maybe ; unsure\n")
    with pytest.raises(ConfigError, match="'maybe'"):
        cfg.getboolean("a", "flag")


def test_dollar_escape():
    cfg = Config.from_string("[a]\nprice = $$5\n")
    assert cfg.get("a", "price") == "$5"

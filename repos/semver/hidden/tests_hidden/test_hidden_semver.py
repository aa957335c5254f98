import pytest

from semverlite import Range, max_satisfying, satisfies


@pytest.mark.parametrize("version, rng, expected", [
    ("0.2.5", "^0.2.3", True),
    ("0.3.0", "^0.2.3", False),
    ("0.0.3", "^0.0.3", True),
    ("0.0.4", "^0.0.3", False),
    ("1.99.0", "^1", True),
    ("2.0.0", "^1", False),
    ("1.2.9", "~1.2", True),
    ("1.3.0", "~1.2", False),
    ("1.9.0", "~1", True),
    ("2.0.0", "~1", False),
    ("1.4.0", "1.x", True),
    ("2.4.0", "1.x", False),
    ("1.2.3", "=1.2.3", True),
    ("1.2.4", "=1.2.3", False),
    ("1.0.0", ">1.0.0", False),
    ("1.0.1", ">1.0.0", True),
    ("2.0.0", "<=2.0.0", True),
    ("2.0.1", "<=2.0.0", False),
    ("0.5.0", "<1.0.0 || >=3.0.0", True),
    ("2.0.0", "<1.0.0 || >=3.0.0", False),
])
def test_range_table(version, rng, expected):
    assert satisfies(version, rng) is expected


def test_prerelease_rules():
    assert not satisfies("2.0.0-rc.1", "^1.0.0 || ^2.0.0")
    assert satisfies("2.0.0-rc.1", ">=1.0.0", include_prerelease=True)
    assert satisfies("1.2.3-beta.4", "^1.2.3-beta.2")
    assert not satisfies("1.2.4-beta.1", "^1.2.3-beta.2")
    assert satisfies("1.2.4-beta.1", "^1.2.3-beta.2", include_prerelease=True)
    assert not satisfies("3.0.0-beta.1", "^1.2.3-beta.2", include_prerelease=True)


def test_max_satisfying_with_prereleases():
    versions = ["1.0.0", "1.1.0-alpha.1", "1.0.5", "0.9.0-rc.1", "3.0.0-rc.1"]
    assert max_satisfying(versions, "^1.0.0") == "1.0.5"
    assert max_satisfying(versions, "^1.0.0", include_prerelease=True) == "1.1.0-alpha.1"


def test_range_repr():
    assert repr(Range("^1.0.0")) == "Range('^1.0.0')"

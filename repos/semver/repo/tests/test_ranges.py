import pytest

from semverlite import InvalidRange, Range, max_satisfying, satisfies


def test_comparators():
    assert satisfies("1.5.0", ">=1.2.0 <2.0.0")
    assert not satisfies("2.0.0", ">=1.2.0 <2.0.0")
    assert not satisfies("1.1.9", ">=1.2.0 <2.0.0")


def test_caret_lower_bound():
    assert satisfies("1.2.0", "^1.2.0")
    assert satisfies("1.9.9", "^1.2.0")
    assert not satisfies("1.1.0", "^1.2.0")


def test_caret_upper_bound():
    assert not satisfies("2.0.0", "^1.2.0")
    assert not satisfies("3.0.0", "^1.2.0")


def test_tilde():
    assert satisfies("1.2.7", "~1.2.0")
    assert not satisfies("1.3.0", "~1.2.0")


def test_alternatives_and_wildcards():
    assert satisfies("3.1.0", "^1.0.0 || 3.x")
    assert satisfies("0.0.1", "*")


def test_prerelease_excluded_by_default():
    assert not satisfies("1.3.0-rc.1", ">=1.0.0")


def test_prerelease_included_on_request():
    assert satisfies("1.3.0-rc.1", ">=1.0.0", include_prerelease=True)


def test_prerelease_named_in_range():
    assert satisfies("1.2.0-beta.2", ">=1.2.0-beta.1")


def test_max_satisfying():
    versions = ["1.2.0", "1.9.1", "2.0.0", "2.1.0-beta.1"]
    assert max_satisfying(versions, "^1.0.0") == "1.9.1"
    assert max_satisfying(versions, "^5.0.0") is None


def test_bad_range():
    with pytest.raises(InvalidRange):
        satisfies("1.0.0", ">=banana")


def test_range_repr():
    assert repr(Range(">=1.0.0 <2.0.0")) == "Range('>=1.0.0 <2.0.0')"


def test_alternatives_are_split():
    assert len(Range("^1.0.0 || ~2.1 || 3.x").alternatives) == 3
    assert len(Range(">=1.0.0 <2.0.0").alternatives[0]) == 2

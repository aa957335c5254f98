import pytest

from semverlite import InvalidVersion, Version, compare


def test_parse_full():
    v = Version.parse("1.2.3-alpha.1+build.5")
    assert (v.major, v.minor, v.patch) == (1, 2, 3)
    assert v.prerelease == ("alpha", "1")
    assert v.build == ("build", "5")
    assert str(v) == "1.2.3-alpha.1+build.5"


def test_parse_accepts_v_prefix():
    assert Version.parse("v2.0.0") == Version(2, 0, 0)


@pytest.mark.parametrize("bad", ["1.2", "1.2.3.4", "01.2.3", "1.2.3-01", "a.b.c", ""])
def test_parse_rejects(bad):
    with pytest.raises(InvalidVersion):
        Version.parse(bad)


def test_spec_precedence_order():
    chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
             "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]
    for low, high in zip(chain, chain[1:]):
        assert compare(low, high) == -1, (low, high)
        assert compare(high, low) == 1


def test_build_metadata_ignored():
    assert Version.parse("1.0.0+a") == Version.parse("1.0.0+b")


def test_sorting():
    versions = [Version.parse(v) for v in ["1.10.0", "1.2.0", "1.2.0-rc.1", "0.9.9"]]
    assert [str(v) for v in sorted(versions)] == ["0.9.9", "1.2.0-rc.1", "1.2.0", "1.10.0"]


def test_bump():
    v = Version.parse("1.2.3-rc.1")
    assert str(v.bump("minor")) == "1.3.0"
    assert str(v.bump("patch")) == "1.2.4"

import pytest

from spans import Interval, format_minutes, parse_time


def test_parse_and_format():
    assert parse_time("09:30") == 570
    assert format_minutes(570) == "09:30"
    assert str(Interval.parse("09:00", "10:15")) == "09:00-10:15"


@pytest.mark.parametrize("bad", ["9", "9:5", "aa:bb", "25:00"])
def test_parse_rejects_garbage(bad):
    with pytest.raises(ValueError):
        parse_time(bad)


def test_empty_interval_rejected():
    with pytest.raises(ValueError):
        Interval(10, 10)


def test_contains_is_half_open():
    iv = Interval(60, 120)
    assert iv.contains(60) and iv.contains(119)
    assert not iv.contains(120)


def test_overlap_when_sharing_minutes():
    assert Interval(0, 60).overlaps(Interval(30, 90))
    assert Interval(30, 90).overlaps(Interval(0, 60))
    assert Interval(0, 100).overlaps(Interval(10, 20))


def test_disjoint_do_not_overlap():
    assert not Interval(0, 10).overlaps(Interval(20, 30))


def test_touching_do_not_overlap():
    assert Interval(0, 60).touches(Interval(60, 90))
    assert not Interval(0, 60).overlaps(Interval(60, 90))


def test_intersection():
    assert Interval(0, 60).intersection(Interval(30, 90)) == Interval(30, 60)
    assert Interval(0, 60).intersection(Interval(60, 90)) is None

import itertools

import pytest

from spans import Calendar, Conflict, Interval, free_between, merge, subtract


def test_overlap_matches_shared_minutes_exhaustively():
    ivs = [Interval(s, e) for s, e in itertools.combinations(range(0, 7), 2)]
    for a, b in itertools.product(ivs, repeat=2):
        shared = set(range(a.start, a.end)) & set(range(b.start, b.end))
        assert a.overlaps(b) == bool(shared), (a, b)


def test_full_day_of_back_to_back_meetings():
    cal = Calendar("09:00", "12:00")
    for hour in (11, 9, 10):
        cal.book(f"{hour:02d}:00", f"{hour + 1:02d}:00", f"m{hour}")
    assert cal.free_slots() == []
    assert cal.busy_minutes() == 180


def test_real_overlap_still_refused_both_ways():
    cal = Calendar()
    cal.book("10:00", "11:00", "a")
    for start, end in [("09:30", "10:01"), ("10:59", "12:00"), ("10:15", "10:45"),
                       ("09:00", "12:00")]:
        with pytest.raises(Conflict):
            cal.book(start, end, f"b{start}")


def test_subtract_touching_hole_leaves_base_whole():
    assert subtract(Interval(60, 120), [Interval(0, 60)]) == [Interval(60, 120)]
    assert subtract(Interval(60, 120), [Interval(120, 180)]) == [Interval(60, 120)]


def test_subtract_inner_hole():
    assert subtract(Interval(0, 100), [Interval(40, 60)]) == [Interval(0, 40), Interval(60, 100)]


def test_free_between_with_adjacent_busy():
    busy = [Interval(0, 30), Interval(30, 60), Interval(90, 120)]
    assert free_between(busy, 0, 120) == [Interval(60, 90)]


def test_merge_still_joins_touching():
    assert merge([Interval(0, 10), Interval(10, 20)]) == [Interval(0, 20)]

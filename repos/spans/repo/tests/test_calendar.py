import pytest

from spans import Calendar, Conflict, Interval, merge, total_minutes


def test_merge_joins_overlapping_and_touching():
    ivs = [Interval(60, 120), Interval(0, 30), Interval(30, 45), Interval(100, 150)]
    assert merge(ivs) == [Interval(0, 45), Interval(60, 150)]


def test_total_minutes_counts_shared_time_once():
    assert total_minutes([Interval(0, 60), Interval(30, 90)]) == 90


def test_book_and_list():
    cal = Calendar("08:00", "18:00")
    cal.book("09:00", "10:00", "standup")
    cal.book("13:00", "14:00", "lunch")
    assert [t for t, _ in cal.bookings()] == ["standup", "lunch"]


def test_overlapping_booking_is_refused():
    cal = Calendar()
    cal.book("09:00", "10:00", "standup")
    with pytest.raises(Conflict, match="standup"):
        cal.book("09:30", "10:30", "review")


def test_booking_right_after_another():
    cal = Calendar()
    cal.book("09:00", "10:00", "standup")
    cal.book("10:00", "11:00", "planning")
    assert cal.busy_minutes() == 120


def test_booking_right_before_another():
    cal = Calendar()
    cal.book("09:00", "10:00", "standup")
    cal.book("08:00", "09:00", "breakfast")
    assert cal.at("08:59") == ["breakfast"]


def test_outside_working_day():
    cal = Calendar("09:00", "17:00")
    with pytest.raises(Conflict, match="outside"):
        cal.book("08:00", "09:30", "early")


def test_free_slots():
    cal = Calendar("09:00", "12:00")
    cal.book("09:30", "10:00", "a")
    cal.book("11:00", "11:50", "b")
    assert [str(s) for s in cal.free_slots(min_minutes=15)] == ["09:00-09:30", "10:00-11:00"]


def test_cancel():
    cal = Calendar()
    cal.book("09:00", "10:00", "x")
    cal.cancel("x")
    assert cal.bookings() == []
    with pytest.raises(KeyError):
        cal.cancel("x")

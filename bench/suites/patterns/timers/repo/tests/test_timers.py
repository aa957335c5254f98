from timers import Timer, countdown, format_clock, parse_clock


def test_clock():
    assert format_clock(123) == "2:03"
    assert format_clock(3723) == "1:02:03"
    assert parse_clock("1:02:03") == 3723
    assert str(Timer(65, "tea")) == "tea 1:05"


def test_countdown():
    assert countdown(3) == ["3", "2", "1", "go"]


def test_countdown_from_zero_or_below():
    assert countdown(0) == ["go"]
    assert countdown(-2) == ["go"]

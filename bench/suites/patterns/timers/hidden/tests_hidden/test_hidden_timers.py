from timers import Timer, countdown


def test_countdown_ends_with_one():
    assert countdown(1) == ["1", "go"]
    assert countdown(5, "lift off") == ["5", "4", "3", "2", "1", "lift off"]


def test_zero_and_below():
    assert countdown(0) == ["go"]
    assert countdown(-3) == ["go"]


def test_timer_labels():
    assert Timer(2).labels() == ["2", "1", "done"]
    assert Timer(0).labels() == ["done"]

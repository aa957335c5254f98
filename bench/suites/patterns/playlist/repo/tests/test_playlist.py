from playlist import Track, alternate, parse_duration, total_duration


def test_durations():
    assert parse_duration("3:07") == 187
    assert parse_duration("1:00:05") == 3605
    assert Track.parse("Blue in Green 5:37") == Track("Blue in Green", 337)
    assert total_duration([Track("a", 10), Track("b", 20)]) == 30


def test_alternate_with_an_empty_list():
    assert alternate([], ["b1"]) == ["b1"]


def test_alternate():
    assert alternate(["a1", "a2", "a3"], ["b1", "b2"]) == ["a1", "b1", "a2", "b2", "a3"]

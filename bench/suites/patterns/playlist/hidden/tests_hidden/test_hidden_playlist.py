from playlist import Track, alternate, mix


def test_alternate():
    assert alternate([1, 3], [2, 4, 6, 8]) == [1, 2, 3, 4, 6, 8]
    assert alternate([1], []) == [1]
    assert alternate([], []) == []
    assert alternate("ace", "bd") == ["a", "b", "c", "d", "e"]


def test_mix_with_limit():
    a = [Track("a1", 100), Track("a2", 100)]
    b = [Track("b1", 50)]
    assert [t.title for t in mix(a, b)] == ["a1", "b1", "a2"]
    assert [t.title for t in mix(a, b, limit=200)] == ["a1", "b1"]

import pytest

from cachet import LRUCache


def test_put_and_get():
    cache = LRUCache(2)
    cache.put("a", 1)
    assert cache.get("a") == 1
    assert cache.get("zz", "dflt") == "dflt"


def test_evicts_oldest_insertion():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.keys() == ["b", "c"]


def test_get_refreshes_recency():
    cache = LRUCache(3)
    for key in "abc":
        cache.put(key, key.upper())
    cache.get("a")
    cache.put("d", "D")
    assert "a" in cache and "c" in cache
    assert "b" not in cache


def test_keys_are_ordered_by_use():
    cache = LRUCache(3)
    for key in "xyz":
        cache.put(key, 0)
    cache.get("y")
    assert cache.keys() == ["x", "z", "y"]


def test_overwrite_refreshes():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.peek("a") == 10


def test_peek_does_not_refresh():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.peek("a")
    cache.put("c", 3)
    assert "a" not in cache


def test_stats_and_on_evict():
    evicted = []
    cache = LRUCache(1, on_evict=lambda k, v: evicted.append(k))
    cache.put("a", 1)
    cache.get("a")
    cache.get("b")
    cache.put("b", 2)
    assert (cache.stats.hits, cache.stats.misses, cache.stats.evictions) == (1, 1, 1)
    assert cache.stats.hit_rate == 0.5
    assert evicted == ["a"]


def test_resize_and_validation():
    cache = LRUCache(3)
    for key in "abc":
        cache.put(key, 0)
    cache.resize(1)
    assert cache.keys() == ["c"]
    with pytest.raises(ValueError):
        LRUCache(0)

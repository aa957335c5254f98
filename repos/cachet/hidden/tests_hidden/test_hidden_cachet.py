from cachet import LRUCache, TTLCache, memoize


def test_hot_key_survives_many_inserts():
    cache = LRUCache(3)
    cache.put("hot", 0)
    for i in range(50):
        cache.put(i, i)
        assert cache.get("hot") == 0
    assert cache.keys() == [48, 49, "hot"]


def test_recency_order_after_mixed_operations():
    cache = LRUCache(4)
    for key in "abcd":
        cache.put(key, 0)
    cache.get("b")
    cache.get("a")
    cache.put("c", 1)
    assert cache.keys() == ["d", "b", "a", "c"]
    cache.put("e", 0)
    assert cache.keys() == ["b", "a", "c", "e"]


def test_miss_does_not_change_order():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("nope")
    cache.put("c", 3)
    assert cache.keys() == ["b", "c"]


def test_ttl_cache_keeps_recently_read_entry():
    now = [0.0]
    cache = TTLCache(2, ttl=100, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert "a" in cache
    assert cache.get("b") is None


def test_memoize_hit_rate_on_cycle():
    @memoize(maxsize=3)
    def ident(x):
        return x

    for _ in range(10):
        for x in (1, 2, 1, 3, 1):
            ident(x)
    assert ident.cache.stats.misses == 3

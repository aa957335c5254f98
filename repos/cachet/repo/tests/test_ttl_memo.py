from cachet import TTLCache, memoize


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_ttl_expiry():
    clock = Clock()
    cache = TTLCache(4, ttl=10, clock=clock)
    cache.put("a", 1)
    clock.now = 9.9
    assert cache.get("a") == 1
    clock.now = 10.0
    assert cache.get("a") is None
    assert cache.stats.expirations == 1


def test_ttl_per_entry_override():
    clock = Clock()
    cache = TTLCache(4, ttl=10, clock=clock)
    cache.put("short", 1, ttl=1)
    cache.put("long", 2)
    clock.now = 5
    assert cache.keys() == ["long"]


def test_memoize_caches_calls():
    calls = []

    @memoize(maxsize=8)
    def square(x):
        calls.append(x)
        return x * x

    assert [square(3), square(3), square(4)] == [9, 9, 16]
    assert calls == [3, 4]


def test_memoize_kwargs_order_irrelevant():
    @memoize()
    def f(a, b=0, c=0):
        return a + 10 * b + 100 * c

    assert f(1, b=2, c=3) == f(1, c=3, b=2) == 321
    assert len(f.cache) == 1

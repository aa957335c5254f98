"""Memoize a function's results in an LRU cache."""
import functools

from .lru import LRUCache

_KWARGS_MARK = object()


def make_key(args, kwargs):
    """A hashable key for a call; keyword order does not matter."""
    if not kwargs:
        return args[0] if len(args) == 1 and type(args[0]) in (int, str) else args
    return args + (_KWARGS_MARK,) + tuple(sorted(kwargs.items()))


def memoize(maxsize=128):
    def decorate(func):
        cache = LRUCache(maxsize)
        missing = object()

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            key = make_key(args, kwargs)
            result = cache.get(key, missing)
            if result is missing:
                result = func(*args, **kwargs)
                cache.put(key, result)
            return result

        wrapper.cache = cache
        wrapper.cache_clear = cache.clear
        return wrapper
    return decorate

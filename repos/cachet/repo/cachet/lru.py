"""A least-recently-used cache on top of OrderedDict (oldest entries first)."""
from collections import OrderedDict

from .stats import CacheStats

_MISSING = object()


class LRUCache:
    def __init__(self, maxsize=128, on_evict=None):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.on_evict = on_evict
        self.stats = CacheStats()
        self._data = OrderedDict()

    def __len__(self):
        return len(self._data)

    def __contains__(self, key):
        return key in self._data

    def keys(self):
        """Keys from least to most recently used."""
        return list(self._data)

    def peek(self, key, default=None):
        """Read without touching recency or statistics."""
        return self._data.get(key, default)

    def get(self, key, default=None):
        value = self._data.get(key, _MISSING)
        if value is _MISSING:
            self.stats.misses += 1
            return default
        self.stats.hits += 1
        self._data.move_to_end(key, last=False)
        return value

    def put(self, key, value):
        if key in self._data:
            self._data.move_to_end(key)
        self._data[key] = value
        while len(self._data) > self.maxsize:
            self._evict_one()

    def _evict_one(self):
        key, value = self._data.popitem(last=False)
        self.stats.evictions += 1
        if self.on_evict is not None:
            self.on_evict(key, value)

    def pop(self, key, default=_MISSING):
        if default is _MISSING:
            return self._data.pop(key)
        return self._data.pop(key, default)

    def clear(self):
        self._data.clear()

    def resize(self, maxsize):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        while len(self._data) > self.maxsize:
            self._evict_one()

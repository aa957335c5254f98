"""An LRU cache whose entries also expire after `ttl` seconds."""
import time

from .lru import LRUCache

_MISSING = object()


class TTLCache:
    def __init__(self, maxsize=128, ttl=60.0, clock=time.monotonic):
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.ttl = ttl
        self.clock = clock
        self._lru = LRUCache(maxsize)
        self.stats = self._lru.stats

    def __len__(self):
        self.expire()
        return len(self._lru)

    def __contains__(self, key):
        return self.get(key, _MISSING) is not _MISSING

    def put(self, key, value, ttl=None):
        expires = self.clock() + (self.ttl if ttl is None else ttl)
        self._lru.put(key, (expires, value))

    def get(self, key, default=None):
        entry = self._lru.peek(key)
        if entry is not None and entry[0] <= self.clock():
            self._lru.pop(key)
            self.stats.expirations += 1
        found = self._lru.get(key, _MISSING)
        return default if found is _MISSING else found[1]

    def expire(self):
        now = self.clock()
        dead = [k for k in self._lru.keys() if self._lru.peek(k)[0] <= now]
        for key in dead:
            self._lru.pop(key)
        self.stats.expirations += len(dead)
        return len(dead)

    def keys(self):
        self.expire()
        return self._lru.keys()

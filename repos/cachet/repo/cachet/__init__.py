"""cachet: small in-memory caches."""
from .lru import LRUCache
from .memo import memoize
from .stats import CacheStats
from .ttl import TTLCache

__all__ = ["LRUCache", "TTLCache", "CacheStats", "memoize"]

"""Sliding-window log: at most `limit` events in any `period` seconds."""
from collections import deque

from .clock import MonotonicClock


class SlidingWindow:
    def __init__(self, limit, period, clock=None):
        if limit <= 0 or period <= 0:
            raise ValueError("limit and period must be positive")
        self.limit = limit
        self.period = float(period)
        self.clock = clock or MonotonicClock()
        self._events = deque()

    def _expire(self, now):
        while self._events and self._events[0] <= now - self.period:
            self._events.popleft()

    def count(self):
        self._expire(self.clock.now())
        return len(self._events)

    def hit(self):
        now = self.clock.now()
        self._expire(now)
        if len(self._events) < self.limit:
            self._events.append(now)
            return True
        return False

    def retry_after(self):
        now = self.clock.now()
        self._expire(now)
        if len(self._events) < self.limit:
            return 0.0
        return self._events[0] + self.period - now

"""Clocks: the real monotonic one, and a fake one tests can move by hand."""
import time


class MonotonicClock:
    def now(self):
        return time.monotonic()

    def sleep(self, seconds):
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    def __init__(self, start=0.0):
        self._now = float(start)

    def now(self):
        return self._now

    def advance(self, seconds):
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += seconds

    def sleep(self, seconds):
        self.advance(max(seconds, 0.0))

"""A half-open interval [start, end) of minutes."""
from dataclasses import dataclass

from .timefmt import format_minutes, parse_time


@dataclass(frozen=True, order=True)
class Interval:
    start: int
    end: int

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError(f"empty or reversed interval [{self.start}, {self.end})")

    @classmethod
    def parse(cls, start, end):
        return cls(parse_time(start), parse_time(end))

    @property
    def minutes(self):
        return self.end - self.start

    def contains(self, minute):
        return self.start <= minute < self.end

    def overlaps(self, other):
        """True when the two intervals share at least one minute."""
        return self.start <= other.end and other.start <= self.end

    def touches(self, other):
        return self.end == other.start or other.end == self.start

    def intersection(self, other):
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Interval(start, end) if start < end else None

    def shift(self, minutes):
        return Interval(self.start + minutes, self.end + minutes)

    def __str__(self):
        return f"{format_minutes(self.start)}-{format_minutes(self.end)}"

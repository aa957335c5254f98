"""A single day's calendar of named bookings."""
from .interval import Interval
from .ops import free_between, total_minutes
from .timefmt import MINUTES_PER_DAY


class Conflict(Exception):
    pass


class Calendar:
    def __init__(self, day_start="00:00", day_end=MINUTES_PER_DAY):
        self.window = Interval.parse(day_start, day_end)
        self._bookings = {}

    def book(self, start, end, title):
        iv = Interval.parse(start, end)
        if iv.intersection(self.window) != iv:
            raise Conflict(f"{title!r} is outside the working day {self.window}")
        for other_title, other in self._bookings.items():
            if other.overlaps(iv):
                raise Conflict(f"{title!r} overlaps {other_title!r}")
        if title in self._bookings:
            raise Conflict(f"{title!r} is already booked")
        self._bookings[title] = iv
        return iv

    def cancel(self, title):
        try:
            return self._bookings.pop(title)
        except KeyError:
            raise KeyError(f"no booking named {title!r}") from None

    def bookings(self):
        return sorted(self._bookings.items(), key=lambda item: item[1])

    def busy_minutes(self):
        return total_minutes(self._bookings.values())

    def free_slots(self, min_minutes=1):
        return free_between(self._bookings.values(), self.window.start, self.window.end,
                            min_minutes)

    def at(self, when):
        minute = Interval.parse(when, MINUTES_PER_DAY).start if isinstance(when, str) else when
        return [title for title, iv in self.bookings() if iv.contains(minute)]

"""spans: half-open intervals [start, end) measured in minutes, and a day calendar."""
from .calendar import Calendar, Conflict
from .interval import Interval
from .ops import free_between, merge, subtract, total_minutes
from .timefmt import format_minutes, parse_time

__all__ = ["Calendar", "Conflict", "Interval", "free_between", "merge", "subtract",
           "total_minutes", "format_minutes", "parse_time"]

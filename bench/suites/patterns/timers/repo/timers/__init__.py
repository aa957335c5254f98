from timers.clock import format_clock, parse_clock
from timers.countdown import countdown
from timers.timer import Timer

__all__ = ["countdown", "format_clock", "parse_clock", "Timer"]

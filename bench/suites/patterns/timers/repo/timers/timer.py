from timers.clock import format_clock
from timers.countdown import countdown


class Timer:
    def __init__(self, seconds, name="timer"):
        self.seconds = seconds
        self.name = name

    def labels(self, final="done"):
        return countdown(self.seconds, final)

    def __str__(self):
        return f"{self.name} {format_clock(self.seconds)}"

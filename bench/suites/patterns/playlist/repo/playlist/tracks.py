from dataclasses import dataclass


def parse_duration(text):
    """"m:ss" or "h:mm:ss" to seconds."""
    seconds = 0
    for part in text.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


@dataclass(frozen=True)
class Track:
    title: str
    seconds: int

    @classmethod
    def parse(cls, line):
        title, _, length = line.rpartition(" ")
        return cls(title.strip(), parse_duration(length))


def total_duration(tracks):
    return sum(t.seconds for t in tracks)

"""Convert between "HH:MM" strings and minutes after midnight."""

MINUTES_PER_DAY = 24 * 60


def parse_time(value):
    if isinstance(value, int):
        minutes = value
    else:
        hours, sep, mins = str(value).strip().partition(":")
        if not sep or not hours.isdigit() or not mins.isdigit() or len(mins) != 2:
            raise ValueError(f"expected HH:MM, got {value!r}")
        minutes = int(hours) * 60 + int(mins)
    if not 0 <= minutes <= MINUTES_PER_DAY:
        raise ValueError(f"time out of range: {value!r}")
    return minutes


def format_minutes(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"

def format_clock(seconds):
    """1:02:03 above an hour, else 2:03."""
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def parse_clock(text):
    total = 0
    for part in text.split(":"):
        total = total * 60 + int(part)
    return total

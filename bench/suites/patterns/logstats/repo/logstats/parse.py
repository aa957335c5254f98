from logstats.levels import LEVELS


def parse_line(line):
    """(level, message) of a leveled line, else None."""
    level, _, message = line.strip().partition(" ")
    if level not in LEVELS:
        return None
    return level, message.strip()

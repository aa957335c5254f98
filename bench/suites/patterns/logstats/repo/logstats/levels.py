LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def count_levels(lines):
    """How many lines start with each level word."""
    counts = dict.fromkeys(LEVELS, 0)
    for line in lines:
        parts = line.split()
        if parts[0] in counts:
            counts[parts[0]] += 1
    return counts


def worst(counts):
    """The most severe level that occurs, or None."""
    for level in reversed(LEVELS):
        if counts.get(level):
            return level
    return None

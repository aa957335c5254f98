from logstats.levels import count_levels, worst


def summary(text):
    counts = count_levels(text.splitlines())
    shown = ", ".join(f"{k.lower()}={v}" for k, v in counts.items() if v)
    return f"{shown or 'empty'} (worst: {worst(counts) or 'none'})"

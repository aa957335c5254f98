def alternate(first, second):
    """first[0], second[0], first[1], second[1], ...; the rest of the longer list at the end."""
    if not first:
        return list(second)
    return [first[0]] + alternate(second, first)


def mix(a, b, limit=None):
    """Alternate two playlists; with a limit in seconds, stop before a track would exceed it."""
    out, used = [], 0
    for track in alternate(a, b):
        if limit is not None and used + track.seconds > limit:
            break
        out.append(track)
        used += track.seconds
    return out

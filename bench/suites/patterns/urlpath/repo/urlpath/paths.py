def ensure_leading_slash(path):
    return path if path.startswith("/") else "/" + path


def ensure_trailing_slash(path):
    if not path.endswith("/"):
        path = "/" + path
    return path


def segments(path):
    """The non-empty segments of a path: "/a//b/" -> ["a", "b"]."""
    return [s for s in path.split("/") if s]


def join(base, *parts):
    """base, then each part, one slash between each; a trailing slash at the end."""
    out = ensure_trailing_slash(base)
    for part in parts:
        part = part.strip("/")
        if part:
            out += part + "/"
    return out

from urllib.parse import quote, unquote


def build_query(params):
    """Sorted by key, values percent-encoded; None values are left out."""
    pairs = [(k, v) for k, v in sorted(params.items()) if v is not None]
    return "&".join(f"{quote(str(k))}={quote(str(v))}" for k, v in pairs)


def parse_query(text):
    out = {}
    for pair in text.lstrip("?").split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        out[unquote(key)] = unquote(value)
    return out

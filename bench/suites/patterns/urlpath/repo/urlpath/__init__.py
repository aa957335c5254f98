from urlpath.paths import ensure_leading_slash, ensure_trailing_slash, join, segments
from urlpath.query import build_query, parse_query
from urlpath.url import Url

__all__ = ["ensure_leading_slash", "ensure_trailing_slash", "join", "segments", "build_query", "parse_query", "Url"]

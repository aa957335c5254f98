from playlist.mixing import alternate, mix
from playlist.tracks import Track, parse_duration, total_duration

__all__ = ["Track", "parse_duration", "total_duration", "alternate", "mix"]

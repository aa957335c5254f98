from dataclasses import dataclass, field

from urlpath.paths import ensure_leading_slash
from urlpath.query import build_query


@dataclass
class Url:
    host: str
    path: str = "/"
    scheme: str = "https"
    params: dict = field(default_factory=dict)

    def __str__(self):
        query = build_query(self.params)
        return f"{self.scheme}://{self.host}{ensure_leading_slash(self.path)}" + (f"?{query}" if query else "")

"""User-facing path queries."""
from dataclasses import dataclass

from .dijkstra import dijkstra, reconstruct


class NoPath(Exception):
    pass


@dataclass(frozen=True)
class Path:
    nodes: list
    cost: float

    @property
    def hops(self):
        return len(self.nodes) - 1

    def edges(self):
        return list(zip(self.nodes, self.nodes[1:]))

    def __str__(self):
        return " -> ".join(map(str, self.nodes)) + f" (cost {self.cost:g})"


def shortest_path(graph, source, target):
    if target not in graph:
        raise KeyError(f"unknown node {target!r}")
    dist, prev = dijkstra(graph, source, target)
    if target not in dist:
        raise NoPath(f"no path from {source!r} to {target!r}")
    return Path(reconstruct(prev, source, target), dist[target])


def all_distances(graph, source):
    dist, _ = dijkstra(graph, source)
    return dict(sorted(dist.items(), key=lambda item: (item[1], str(item[0]))))

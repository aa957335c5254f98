"""Dijkstra's algorithm with a binary heap."""
import heapq
import itertools


def dijkstra(graph, source, target=None):
    """Distances and predecessors from source; stops early once target is settled."""
    if source not in graph:
        raise KeyError(f"unknown node {source!r}")
    dist = {source: 0.0}
    prev = {}
    done = set()
    tie = itertools.count()  # keeps the heap from comparing nodes of mixed types
    heap = [(0.0, next(tie), source)]
    while heap:
        d, _, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        if node == target:
            break
        for nxt, w in graph.neighbors(node):
            nd = d + w
            if nd < dist.get(nxt, float("inf")):
                dist[nxt] = nd
                prev[nxt] = node
                heapq.heappush(heap, (nd, next(tie), nxt))
    return dist, prev


def reconstruct(prev, source, target):
    """The node list source..target following predecessor links."""
    path = [target]
    while path[-1] != source:
        path.append(prev[path[-1]])
    path.reverse()

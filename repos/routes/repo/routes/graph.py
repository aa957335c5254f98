"""An adjacency-map graph with non-negative edge weights."""


class Graph:
    def __init__(self, directed=False):
        self.directed = directed
        self._adj = {}

    def add_node(self, node):
        self._adj.setdefault(node, {})

    def add_edge(self, u, v, weight=1.0):
        weight = float(weight)
        if weight < 0:
            raise ValueError(f"negative weight {weight} on edge {u!r}-{v!r}")
        self.add_node(u)
        self.add_node(v)
        self._adj[u][v] = weight
        if not self.directed:
            self._adj[v][u] = weight

    def remove_edge(self, u, v):
        del self._adj[u][v]
        if not self.directed:
            del self._adj[v][u]

    def nodes(self):
        return list(self._adj)

    def neighbors(self, node):
        return self._adj[node].items()

    def weight(self, u, v):
        return self._adj[u][v]

    def edges(self):
        seen = set()
        for u, targets in self._adj.items():
            for v, w in targets.items():
                if not self.directed and (v, u) in seen:
                    continue
                seen.add((u, v))
                yield u, v, w

    def __contains__(self, node):
        return node in self._adj

    def __len__(self):
        return len(self._adj)

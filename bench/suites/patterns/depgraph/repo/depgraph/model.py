from collections import namedtuple

Edge = namedtuple("Edge", "src dst kind")


class Graph:
    def __init__(self):
        self.edges = []
        self.packages = set()

    def add(self, src, dst, kind="requires"):
        if src == dst:
            raise ValueError(f"{src} cannot depend on itself")
        self.edges.append(Edge(src, dst, kind))
        self.packages |= {src, dst}

"""Read and write whitespace-separated edge lists: `u v [weight]` per line."""
from .graph import Graph


def load_edges(text, directed=False):
    graph = Graph(directed=directed)
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) not in (1, 2, 3):
            raise ValueError(f"line {lineno}: expected 'u v [weight]', got {line!r}")
        if len(parts) == 1:
            graph.add_node(parts[0])
            continue
        weight = float(parts[2]) if len(parts) > 3 else 1.0
        graph.add_edge(parts[0], parts[1], weight)
    return graph


def dump_edges(graph):
    lines = [f"{u} {v} {w:g}" for u, v, w in graph.edges()]
    lines += [n for n in graph.nodes() if not any(True for _ in graph.neighbors(n))]
    return "\n".join(lines) + "\n"

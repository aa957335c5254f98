from depgraph.model import Graph


def load(text):
    """Lines like `app -> web` (optionally `[dev]` at the end for a kind); # comments."""
    graph = Graph()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind = "requires"
        if line.endswith("]") and "[" in line:
            line, _, tail = line.rpartition("[")
            kind = tail[:-1].strip()
        src, _, dst = line.partition("->")
        graph.add(src.strip(), dst.strip(), kind)
    return graph

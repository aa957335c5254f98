def dependencies(graph, name, kind=None):
    """What name depends on directly, sorted."""
    return sorted(e.dst for e in graph.edges if e.src == name and (kind is None or e.kind == kind))


def dependents(graph, name, kind=None):
    """What depends on name directly, sorted."""
    return sorted(e.src for e in graph.edges if e.src == name and (kind is None or e.kind == kind))


def roots(graph):
    """Packages nothing depends on, sorted."""
    return sorted(p for p in graph.packages if not dependents(graph, p))

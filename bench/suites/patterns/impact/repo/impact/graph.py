def parse_imports(text):
    """Lines `module: imported imported ...` -> {module: [imported, ...]}."""
    graph = {}
    for line in text.strip().splitlines():
        if ":" not in line:
            continue
        name, _, deps = line.partition(":")
        graph[name.strip()] = deps.split()
    return graph


def importers_of(graph):
    """The inverse graph: module -> the modules that import it (sorted)."""
    out = {}
    for mod, deps in graph.items():
        for dep in deps:
            out.setdefault(dep, []).append(mod)
    return {k: sorted(v) for k, v in out.items()}

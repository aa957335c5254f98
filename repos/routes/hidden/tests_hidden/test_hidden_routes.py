import pytest

from routes import Graph, load_edges, reconstruct, shortest_path, dijkstra


def test_reconstruct_returns_node_list():
    prev = {"b": "a", "c": "b"}
    assert reconstruct(prev, "a", "c") == ["a", "b", "c"]
    assert reconstruct(prev, "a", "a") == ["a"]


def test_path_to_itself_has_no_hops():
    g = Graph()
    g.add_edge(1, 2)
    p = shortest_path(g, 1, 1)
    assert p.nodes == [1] and p.hops == 0 and p.edges() == []


def test_directed_grid_from_file():
    text = """
    # directed one-way streets
    s a 1
    a b 1
    b t 1
    s t 10
    t s 1
    """
    g = load_edges(text, directed=True)
    p = shortest_path(g, "s", "t")
    assert (p.nodes, p.cost) == (["s", "a", "b", "t"], 3.0)
    assert shortest_path(g, "t", "s").cost == 1.0


def test_float_weights_and_defaults_mixed():
    g = load_edges("a b 0.5\nb c\na c 1.75\n")
    p = shortest_path(g, "a", "c")
    assert p.cost == 1.5
    assert str(p) == "a -> b -> c (cost 1.5)"


def test_larger_graph_against_brute_force():
    g = Graph()
    edges = [(i, (i * 7 + 3) % 20, (i * 13) % 9 + 1) for i in range(20)]
    edges += [(i, i + 1, 4) for i in range(19)]
    for u, v, w in edges:
        g.add_edge(u, v, w)
    dist, _ = dijkstra(g, 0)
    # Bellman-Ford as an independent reference
    ref = {n: float("inf") for n in g.nodes()}
    ref[0] = 0.0
    for _ in range(len(ref)):
        for u, v, w in g.edges():
            ref[v] = min(ref[v], ref[u] + w)
            ref[u] = min(ref[u], ref[v] + w)
    assert dist == ref
    for target in (7, 13, 19):
        p = shortest_path(g, 0, target)
        assert sum(g.weight(u, v) for u, v in p.edges()) == p.cost == ref[target]

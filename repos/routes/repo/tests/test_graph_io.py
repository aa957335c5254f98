import pytest

from routes import Graph, dump_edges, load_edges


def test_undirected_edges_go_both_ways():
    g = Graph()
    g.add_edge("a", "b", 3)
    assert g.weight("b", "a") == 3.0


def test_directed_edges_go_one_way():
    g = Graph(directed=True)
    g.add_edge("a", "b")
    assert "a" not in dict(g.neighbors("b"))


def test_negative_weight_rejected():
    with pytest.raises(ValueError):
        Graph().add_edge("a", "b", -1)


def test_load_skips_comments_and_blank_lines():
    g = load_edges("# network\n\na b\nc   # lonely node\n")
    assert sorted(g.nodes()) == ["a", "b", "c"]


def test_load_default_weight_is_one():
    g = load_edges("a b\n")
    assert g.weight("a", "b") == 1.0


def test_load_reads_weights():
    g = load_edges("a b 2.5\nb c 4\n")
    assert g.weight("a", "b") == 2.5
    assert g.weight("c", "b") == 4.0


def test_load_rejects_long_lines():
    with pytest.raises(ValueError, match="line 2"):
        load_edges("a b\na b c d\n")


def test_dump_round_trip():
    g = Graph()
    g.add_edge("x", "y", 2)
    g.add_node("z")
    assert dump_edges(g) == "x y 2\nz\n"

import pytest

from routes import Graph, NoPath, all_distances, dijkstra, load_edges, reconstruct, shortest_path


@pytest.fixture
def city():
    g = Graph()
    for u, v, w in [("home", "park", 2), ("park", "shop", 2), ("home", "shop", 5),
                    ("shop", "work", 1), ("park", "work", 6)]:
        g.add_edge(u, v, w)
    return g


def test_cost(city):
    assert shortest_path(city, "home", "work").cost == 5.0


def test_path_nodes(city):
    assert shortest_path(city, "home", "work").nodes == ["home", "park", "shop", "work"]


def test_path_to_itself(city):
    p = shortest_path(city, "shop", "shop")
    assert p.cost == 0.0


def test_str_and_hops(city):
    p = shortest_path(city, "home", "shop")
    assert p.hops == 2
    assert str(p) == "home -> park -> shop (cost 4)"


def test_no_path():
    g = Graph()
    g.add_edge("a", "b")
    g.add_node("c")
    with pytest.raises(NoPath):
        shortest_path(g, "a", "c")


def test_all_distances(city):
    assert all_distances(city, "home") == {"home": 0.0, "park": 2.0, "shop": 4.0, "work": 5.0}


def test_weighted_file_route():
    g = load_edges("a b 5\nb c 1\na c 9\n")
    assert shortest_path(g, "a", "c").cost == 6.0


def test_reconstruct_from_predecessors(city):
    _, prev = dijkstra(city, "work")
    assert reconstruct(prev, "work", "home") == ["work", "shop", "park", "home"]

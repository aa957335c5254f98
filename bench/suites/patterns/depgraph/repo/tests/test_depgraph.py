import pytest

from depgraph import Graph, dependencies, dependents, load

TEXT = """
app -> web
app -> db
web -> http
app -> pytest [dev]   # tests only
"""


def test_load():
    g = load(TEXT)
    assert len(g.edges) == 4
    assert g.edges[3].kind == "dev"


def test_self_dependency_refused():
    with pytest.raises(ValueError):
        Graph().add("a", "a")


def test_dependencies():
    g = load(TEXT)
    assert dependencies(g, "app") == ["db", "pytest", "web"]
    assert dependencies(g, "app", kind="dev") == ["pytest"]


def test_dependents():
    g = load(TEXT)
    assert dependents(g, "web") == ["app"]

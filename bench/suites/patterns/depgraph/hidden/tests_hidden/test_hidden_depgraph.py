from depgraph import dependents, load, roots

TEXT = """
app -> web
app -> db
web -> http
cli -> http
cli -> pytest [dev]
"""


def test_dependents():
    g = load(TEXT)
    assert dependents(g, "http") == ["cli", "web"]
    assert dependents(g, "app") == []
    assert dependents(g, "pytest", kind="dev") == ["cli"]
    assert dependents(g, "pytest", kind="requires") == []


def test_roots():
    assert roots(load(TEXT)) == ["app", "cli"]

from impact import affected, importers_of, parse_imports

GRAPH = parse_imports("""
a: b c
b: c
d: a
e: f
""")


def test_parse_and_invert():
    assert GRAPH["a"] == ["b", "c"]
    assert importers_of(GRAPH)["c"] == ["a", "b"]


def test_a_module_nobody_imports():
    assert affected(GRAPH, "d") == {"d"}


def test_transitive_importers():
    assert affected(GRAPH, "c") == {"a", "b", "c", "d"}

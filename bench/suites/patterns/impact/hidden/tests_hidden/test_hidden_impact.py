from impact import affected, parse_imports, retest_plan

GRAPH = parse_imports("""
app: api db
api: models util
db: models
models: util
cli: util
tool: cli
""")


def test_affected():
    assert affected(GRAPH, "util") == {"util", "models", "api", "db", "app", "cli", "tool"}
    assert affected(GRAPH, "db") == {"db", "app"}
    assert affected(GRAPH, "app") == {"app"}
    assert affected(GRAPH, "unknown") == {"unknown"}


def test_cycles_terminate():
    g = parse_imports("x: y\ny: x\nz: x")
    assert affected(g, "x") == {"x", "y", "z"}


def test_retest_plan():
    tests = {"models": "test_models.py", "cli": "test_cli.py", "app": "test_app.py"}
    assert retest_plan(GRAPH, "models", tests) == ["test_app.py", "test_models.py"]

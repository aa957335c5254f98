"""The import contract: every import points down the layers (docs/architecture.md).

Layers, lowest first; a module belongs to the layer of the longest prefix that names it:

    0 core       ouro.sandbox.core                 errors, home, files, executors, schema, logging
    1 sandbox    ouro.sandbox                      backends, images, policy, audit
    2 tests      ouro.sandbox.testrun              running a test suite in a sandbox
    3 agent      ouro.agent                        the repair agent
    4 learning   ouro.agent.bench, ouro.agent.report, ouro.improvers.learn
    5 improvers  ouro.improvers                    recursive improvement
    6 cli        ouro.agent.cli                    turns names into objects; prints

An import from a higher layer is an error, wherever it is written (a function-level import
is as much a dependency as a top-level one). Code that runs inside a sandbox (guest code,
attacks) imports nothing of ouro, so it is a leaf any layer may import (the host reads the
guest's own helpers rather than keep a copy), and nothing imports the old bare names.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("agent", "sandbox", "improvers")
LAYERS = {
    "ouro.sandbox.core": 0,
    "ouro.sandbox": 1,
    "ouro.sandbox.testrun": 2,
    "ouro.agent": 3,
    "ouro.agent.bench": 4,
    "ouro.agent.report": 4,
    "ouro.improvers.learn": 4,
    "ouro.sandbox.audit.selftest": 2,  # the red-team self-test runs attacks as test suites
    "ouro.improvers": 5,
    "ouro.agent.cli": 6,
}
NAMES = {0: "core", 1: "sandbox", 2: "test execution", 3: "agent", 4: "learning/bench/reports", 5: "improvers", 6: "cli"}
# code that runs inside a sandbox, not in ouro's process
STANDALONE = ("ouro.sandbox.guest", "ouro.improvers.guest", "ouro.sandbox.audit.attacks", "ouro.improvers.scaffold_target")


def layer_of(module: str) -> int | None:
    if module.startswith(STANDALONE):
        return 0   # code that imports nothing of ouro is a leaf: any layer may use it
    best = None
    for prefix, layer in LAYERS.items():
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    return best[1] if best else None


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return "ouro." + ".".join(parts)


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement in the file, relative ones resolved.

    `from ouro.agent import repair` yields both ouro.agent and ouro.agent.repair (the name may
    be a module); a statement is judged by the highest layer among what it yields."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = package.split(".")
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            out.append((node.lineno, base))
            # `from ouro.agent import repair` imports the module ouro.agent.repair
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names if a.name != "*"]
    return out


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            module = module_name(path, root)
            standalone = module.startswith(STANDALONE)
            mine = layer_of(module)
            seen_lines = set()
            for line, imported in sorted(imports_of(path, module), key=lambda li: (li[0], -(layer_of(li[1]) or 0))):
                if line in seen_lines:
                    continue
                where = f"{path.relative_to(root)}:{line}"
                top = imported.split(".")[0]
                if top in FOLDERS:
                    seen_lines.add(line)
                    found.append(f"{where}: imports {imported} (outside the ouro namespace)")
                elif top == "ouro" and standalone:
                    seen_lines.add(line)
                    found.append(f"{where}: code that runs in a sandbox imports {imported}")
                elif top == "ouro" and not standalone:
                    theirs = layer_of(imported)
                    if theirs is not None and mine is not None and theirs > mine:
                        seen_lines.add(line)
                        found.append(f"{where}: {module} ({NAMES[mine]}) imports {imported} ({NAMES[theirs]})")
    return found


def test_every_import_points_down_the_layers():
    assert violations() == []


def test_tests_and_benchmarks_use_the_ouro_namespace():
    bad = []
    for folder in ("tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "fixtures" in path.parts:
                continue
            for line, imported in imports_of(path, "x"):
                if imported.split(".")[0] in FOLDERS:
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {imported}")
    assert bad == []


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The check can fail: a sandbox module that imports the agent is caught."""
    for folder in FOLDERS:
        (tmp_path / folder).mkdir()
    (tmp_path / "sandbox" / "core").mkdir()
    (tmp_path / "sandbox" / "core" / "errors.py").write_text("")
    (tmp_path / "sandbox" / "backend.py").write_text("def f():\n    from ouro.agent.repair import run_repair\n")
    (tmp_path / "agent" / "repair.py").write_text("from ouro.sandbox.core import errors\n")
    (tmp_path / "agent" / "old.py").write_text("import sandbox.backend\n")
    found = violations(tmp_path)
    assert len(found) == 2, found
    assert "sandbox/backend.py:2: ouro.sandbox.backend (sandbox) imports ouro.agent.repair (agent)" in found
    assert "agent/old.py:1: imports sandbox.backend (outside the ouro namespace)" in found


@pytest.mark.parametrize("module,layer", [("ouro.sandbox.core.errors", 0), ("ouro.sandbox.images", 1),
                                          ("ouro.sandbox.testrun", 2), ("ouro.agent.search", 3),
                                          ("ouro.agent.bench.judge", 4), ("ouro.improvers.learn.ranker", 4),
                                          ("ouro.improvers.scaffold", 5), ("ouro.agent.cli.repair", 6)])
def test_layer_of(module, layer):
    assert layer_of(module) == layer

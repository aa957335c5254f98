"""A project's test set-up, read from its files: what must be on the import path (`--pythonpath`,
the package folder its packaging names, or a `src/` layout), which files hold tests when it is a unittest or nose suite (whose test files
pytest's defaults do not all find), and which top-level modules are the project's own (a name
missing from one of those is a bug, from any other module the environment's: agent.failures).

Read on the host, from the workspace copy: nothing here imports or runs the project's code,
and every file is read through sandbox.project.ProjectFiles (the one reader and parser of a
project's files on the host: nothing through a link, regular files only, a size cap), because
the tree may come from anywhere (`git archive` of a bench task keeps its links).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.project import ProjectFiles

# pytest's default test-file patterns, and the ones unittest (`test*.py`) and nose (`*_tests.py`,
# `tests.py`) also find
PYTEST_FILES = ("test_*.py", "*_test.py")
SUITE_FILES = ("test*.py", "*_test.py", "*_tests.py")
_HAS_TESTS = re.compile(r"^\s*(?:def test|class \w*Test|class Test|\s+def test)|unittest\.TestCase|TestCase\)", re.M)
# a test file larger than this is not searched for tests (nobody writes one by hand)
_MAX_TEST_FILE = 4 << 20
_SKIP_DIRS = {".git", ".ouro", ".venv", "venv", "env", "node_modules", "build", "dist", ".tox", "__pycache__",
              "site-packages", "docs"}


@dataclass
class TestSetup:
    __test__ = False
    pythonpath: list[str] = field(default_factory=list)    # workspace-relative dirs for PYTHONPATH
    python_files: list[str] = field(default_factory=list)  # test-file patterns to give pytest ([] = its own)
    modules: frozenset[str] = frozenset()                   # the project's own top-level module names
    testpaths: list[str] = field(default_factory=list)     # the project's configured test folders
    # files a developer's `pip install -e .` would have written and the code imports (a
    # setuptools_scm version file): repository-relative path -> text, written into ouro's copy
    generated: dict[str, str] = field(default_factory=dict)

    def write_generated(self, root: Path) -> dict[str, bytes]:
        """Write the generated files under root (ouro's own copy); what was written."""
        out = {}
        for rel, text in self.generated.items():
            path = Path(root) / rel
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                out[rel] = text.encode()
        return out

    def pytest_options(self) -> list[str]:
        return ["-o", "python_files=" + " ".join(self.python_files)] if self.python_files else []

    def env(self, workspace: str) -> dict[str, str]:
        """The sandbox environment that puts `pythonpath` on the import path of every process,
        including the ones the tests start themselves (pytest's own `pythonpath` setting would
        reach only pytest's process, and only from pytest 7 on)."""
        if not self.pythonpath:
            return {}
        root = workspace.rstrip("/")
        return {"PYTHONPATH": ":".join(root if p in (".", "") else f"{root}/{p.strip('/')}" for p in self.pythonpath)}


def project_files(repo: Path) -> list[str]:
    """The project's .py files (regular files, not links; no link to a directory is entered)."""
    out = []
    root = Path(repo)
    for dirpath, dirnames, filenames in os.walk(root):   # os.walk does not follow directory links
        rel_dir = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if name.endswith(".py") and not os.path.islink(os.path.join(dirpath, name)):
                out.append((rel_dir / name).as_posix())
    return sorted(out)


def project_modules(files: list[str]) -> frozenset[str]:
    """Top-level importable names the project's own files provide (`src/` layouts included)."""
    names = set()
    for f in files:
        parts = f.split("/")
        if parts[0] == "src" and len(parts) > 1:
            parts = parts[1:]
        name = parts[0][:-3] if len(parts) == 1 else parts[0]
        if name.isidentifier():
            names.add(name)
    return frozenset(names)


def src_layout(repo: Path, files: ProjectFiles | None = None) -> bool:
    """A `src/` folder holding the project's package (or modules), importable only with src/
    on the path: the project's own package is never installed into the sandbox."""
    files = files or ProjectFiles(repo)
    if not files.is_dir("src"):
        return False
    return any(files.read(f"src/{d}/__init__.py") is not None for d in files.listdir("src")) or any(
        n.endswith(".py") and files.read(f"src/{n}") is not None for n in files.listdir("src"))


_SETUP_PY_DIR = re.compile(r"""package_dir\s*=\s*\{\s*['"]{2}\s*:\s*['"]([\w./-]+)['"]""")


def _quiet(parse, default):
    """A file the project cannot parse says nothing about its test set-up (sandbox.project
    reports it where it matters, building the environment)."""
    try:
        return parse()
    except BadInput:
        return default


def package_root(repo: Path, files: ProjectFiles | None = None) -> str | None:
    """The folder the project's packaging puts its packages under (`src`, `lib`...), read from
    pyproject.toml, setup.cfg or setup.py's text (never run), when it names one."""
    files = files or ProjectFiles(repo)
    found = None
    tool = _quiet(files.pyproject, {}).get("tool", {})
    if isinstance(tool, dict) and isinstance(tool.get("setuptools"), dict):
        st = tool["setuptools"]
        pkg_dir = st.get("package-dir") or st.get("package_dir") or {}
        find = st.get("packages", {}).get("find", {}) if isinstance(st.get("packages"), dict) else {}
        where = find.get("where") if isinstance(find, dict) else None
        found = (pkg_dir.get("") if isinstance(pkg_dir, dict) else None) or (where[0] if isinstance(where, list) and where else None)
    cfg = _quiet(files.setup_cfg, None)
    if found is None and cfg is not None:
        for line in cfg.get("options", "package_dir", fallback="").splitlines():
            key, _, value = line.partition("=")
            if not key.strip() and value.strip():
                found = value.strip()
    if found is None:
        m = _SETUP_PY_DIR.search(files.setup_py())
        found = m.group(1) if m else None
    if isinstance(found, str) and found.strip("./") and ".." not in Path(found).parts and files.is_dir(found):
        return Path(found).as_posix().strip("/")
    return None


def _pytest_config(repo: Path, files: ProjectFiles | None = None) -> dict[str, str]:
    """The project's pytest ini settings (pytest.ini, pyproject, tox.ini, setup.cfg; pytest's order)."""
    files = files or ProjectFiles(repo)
    for name in ("pytest.ini", ".pytest.ini"):
        cp = _quiet(lambda: files.ini(name), None)
        if cp is not None:
            return dict(cp.items("pytest")) if cp.has_section("pytest") else {}
    table = _quiet(files.pyproject, {}).get("tool", {})
    table = table.get("pytest", {}) if isinstance(table, dict) else {}
    table = table.get("ini_options") if isinstance(table, dict) else None
    if isinstance(table, dict):
        return {k: " ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in table.items()}
    for parse, section in ((files.tox, "pytest"), (files.setup_cfg, "tool:pytest")):
        cp = _quiet(parse, None)
        if cp is not None and cp.has_section(section):
            return dict(cp.items(section))
    return {}


def _suite_files_beyond_pytest(repo: Path, files: list[str], reader: ProjectFiles | None = None) -> bool:
    """Test files that unittest or nose would run and pytest's default patterns miss."""
    from fnmatch import fnmatch

    reader = reader or ProjectFiles(repo)
    for f in files:
        name = f.rsplit("/", 1)[-1]
        if any(fnmatch(name, p) for p in PYTEST_FILES) or not any(fnmatch(name, p) for p in SUITE_FILES):
            continue
        text = reader.text(f, max_bytes=_MAX_TEST_FILE, remember=False)
        if text is not None and _HAS_TESTS.search(text):
            return True
    return False


def detect(repo: Path, pythonpath: list[str] | None = None, files: list[str] | None = None,
           also: list[str] = ()) -> TestSetup:
    """The test set-up of the project at repo. pythonpath: what the user gave (--pythonpath);
    None to detect (a `src/` layout puts src/ on the path). also: folders the test command
    itself puts on the path (its `-o pythonpath=...`)."""
    repo = Path(repo)
    reader = ProjectFiles(repo)
    files = project_files(repo) if files is None else files
    if pythonpath is None:
        root = package_root(repo, reader)
        pythonpath = [root] if root else (["src"] if src_layout(repo, reader) else [])
    pythonpath = list(dict.fromkeys([*pythonpath, *also]))
    config = _pytest_config(repo, reader)
    python_files = []
    if "python_files" not in config and _suite_files_beyond_pytest(repo, files, reader):
        python_files = list(SUITE_FILES)
    return TestSetup(pythonpath=list(pythonpath), python_files=python_files, modules=project_modules(files),
                     testpaths=config.get("testpaths", "").split(), generated=scm_version_file(reader))


_SCM_DEFAULT = '__version__ = version = "0.0.0"\n__version_tuple__ = version_tuple = (0, 0, 0)\n'


def scm_version_file(reader: ProjectFiles) -> dict[str, str]:
    """The version file setuptools_scm writes at build time (`write_to` in setup.py's
    use_scm_version, `write_to`/`version_file` in [tool.setuptools_scm]), when the copy lacks
    it: black imports `_black_version`, which only an install creates. Its text: the project's
    own `write_to_template` with version 0.0.0, else setuptools_scm's default."""
    rel, template = "", ""
    table = ((reader.pyproject().get("tool") or {}).get("setuptools_scm") or {})
    if isinstance(table, dict):
        rel = str(table.get("version_file") or table.get("write_to") or "")
        template = str(table.get("version_file_template") or table.get("write_to_template") or "")
    if not rel:
        setup_py = reader.setup_py()
        m = re.search(r"""["']write_to["']\s*:\s*["']([^"']+)["']|\bwrite_to\s*=\s*["']([^"']+)["']""", setup_py)
        rel = (m.group(1) or m.group(2)) if m else ""
        t = re.search(r"""["']write_to_template["']\s*:\s*(['"])(.*?)\1""", setup_py)
        template = t.group(2).encode().decode("unicode_escape") if t else ""
    if not rel or not rel.endswith(".py") or reader.inside(rel) is None or reader.read(rel) is not None:
        return {}
    return {rel: template.replace("{version}", "0.0.0").replace("{version_tuple}", "(0, 0, 0)") or _SCM_DEFAULT}

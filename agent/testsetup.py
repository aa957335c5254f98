"""A project's test set-up, read from its files: what must be on the import path (`--pythonpath`,
the package folder its packaging names, or a `src/` layout), which files hold tests when it is a unittest or nose suite (whose test files
pytest's defaults do not all find), and which top-level modules are the project's own (a name
missing from one of those is a bug, from any other module the environment's: agent.failures).

Read on the host, from the workspace copy: nothing here imports or runs the project's code.
"""
from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# pytest's default test-file patterns, and the ones unittest (`test*.py`) and nose (`*_tests.py`,
# `tests.py`) also find
PYTEST_FILES = ("test_*.py", "*_test.py")
SUITE_FILES = ("test*.py", "*_test.py", "*_tests.py")
_HAS_TESTS = re.compile(r"^\s*(?:def test|class \w*Test|class Test|\s+def test)|unittest\.TestCase|TestCase\)", re.M)
_SKIP_DIRS = {".git", ".ouro", ".venv", "venv", "env", "node_modules", "build", "dist", ".tox", "__pycache__",
              "site-packages", "docs"}


@dataclass
class TestSetup:
    __test__ = False
    pythonpath: list[str] = field(default_factory=list)    # workspace-relative dirs for PYTHONPATH
    python_files: list[str] = field(default_factory=list)  # test-file patterns to give pytest ([] = its own)
    modules: frozenset[str] = frozenset()                   # the project's own top-level module names
    testpaths: list[str] = field(default_factory=list)     # the project's configured test folders

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
    out = []
    for p in sorted(Path(repo).rglob("*.py")):
        rel = p.relative_to(repo)
        if not (set(rel.parts[:-1]) & _SKIP_DIRS):
            out.append(rel.as_posix())
    return out


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


def src_layout(repo: Path) -> bool:
    """A `src/` folder holding the project's package (or modules), importable only with src/
    on the path: the project's own package is never installed into the sandbox."""
    src = Path(repo) / "src"
    if not src.is_dir():
        return False
    return any((d / "__init__.py").is_file() for d in src.iterdir() if d.is_dir()) or any(src.glob("*.py"))


_SETUP_PY_DIR = re.compile(r"""package_dir\s*=\s*\{\s*['"]{2}\s*:\s*['"]([\w./-]+)['"]""")


def package_root(repo: Path) -> str | None:
    """The folder the project's packaging puts its packages under (`src`, `lib`...), read from
    pyproject.toml, setup.cfg or setup.py's text (never run), when it names one."""
    repo = Path(repo)
    found = None
    if (repo / "pyproject.toml").is_file():
        try:
            tool = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8")).get("tool", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            tool = {}
        st = tool.get("setuptools", {}) if isinstance(tool.get("setuptools"), dict) else {}
        pkg_dir = st.get("package-dir") or st.get("package_dir") or {}
        where = (st.get("packages", {}) or {}).get("find", {}).get("where") if isinstance(st.get("packages"), dict) else None
        found = (pkg_dir.get("") if isinstance(pkg_dir, dict) else None) or (where[0] if isinstance(where, list) and where else None)
    if found is None and (repo / "setup.cfg").is_file():
        options = _ini_section(repo / "setup.cfg", "options") or {}
        for line in options.get("package_dir", "").splitlines():
            key, _, value = line.partition("=")
            if not key.strip() and value.strip():
                found = value.strip()
    if found is None and (repo / "setup.py").is_file():
        m = _SETUP_PY_DIR.search((repo / "setup.py").read_text(encoding="utf-8", errors="replace"))
        found = m.group(1) if m else None
    if found and found.strip("./") and (repo / found).is_dir() and ".." not in Path(found).parts:
        return Path(found).as_posix().strip("/")
    return None


def _pytest_config(repo: Path) -> dict[str, str]:
    """The project's pytest ini settings (pytest.ini, pyproject, tox.ini, setup.cfg; pytest's order)."""
    repo = Path(repo)
    for name, section in (("pytest.ini", "pytest"), (".pytest.ini", "pytest")):
        if (repo / name).is_file():
            return _ini_section(repo / name, section) or {}
    if (repo / "pyproject.toml").is_file():
        try:
            data = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        table = data.get("tool", {}).get("pytest", {}).get("ini_options")
        if isinstance(table, dict):
            return {k: " ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in table.items()}
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        found = _ini_section(repo / name, section) if (repo / name).is_file() else None
        if found is not None:
            return found
    return {}


def _ini_section(path: Path, section: str) -> dict[str, str] | None:
    cp = configparser.ConfigParser(interpolation=None)
    try:
        cp.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return dict(cp.items(section)) if cp.has_section(section) else None


def _suite_files_beyond_pytest(repo: Path, files: list[str]) -> bool:
    """Test files that unittest or nose would run and pytest's default patterns miss."""
    from fnmatch import fnmatch

    for f in files:
        name = f.rsplit("/", 1)[-1]
        if any(fnmatch(name, p) for p in PYTEST_FILES) or not any(fnmatch(name, p) for p in SUITE_FILES):
            continue
        try:
            if _HAS_TESTS.search((Path(repo) / f).read_text(encoding="utf-8", errors="replace")):
                return True
        except OSError:
            continue
    return False


def detect(repo: Path, pythonpath: list[str] | None = None, files: list[str] | None = None,
           also: list[str] = ()) -> TestSetup:
    """The test set-up of the project at repo. pythonpath: what the user gave (--pythonpath);
    None to detect (a `src/` layout puts src/ on the path). also: folders the test command
    itself puts on the path (its `-o pythonpath=...`)."""
    repo = Path(repo)
    files = project_files(repo) if files is None else files
    if pythonpath is None:
        root = package_root(repo)
        pythonpath = [root] if root else (["src"] if src_layout(repo) else [])
    pythonpath = list(dict.fromkeys([*pythonpath, *also]))
    config = _pytest_config(repo)
    python_files = []
    if "python_files" not in config and _suite_files_beyond_pytest(repo, files):
        python_files = list(SUITE_FILES)
    return TestSetup(pythonpath=list(pythonpath), python_files=python_files, modules=project_modules(files),
                     testpaths=config.get("testpaths", "").split())

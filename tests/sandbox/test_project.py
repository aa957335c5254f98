"""What a project declares, read as text on the host (sandbox/project.py), and the Python that
follows from it (sandbox/pythons.py). No sandbox, no network: these are the decisions."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.project import ExternalDependency, PythonNeed, read_project
from ouro.sandbox.pythons import NoPython, Offer, choose, host_interpreters


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root


OFFERS = [Offer("debian", (3, 11), "bookworm"), Offer("debian", (3, 9), "bullseye"), Offer("debian", (3, 13), "trixie"),
          Offer("host", (3, 7), "/py/3.7.16", "3.7.16", "pyenv"), Offer("host", (3, 8), "/py/3.8.18", "3.8.18", "pyenv"),
          Offer("host", (3, 11), "/py/3.11.7", "3.11.7", "pyenv")]


def test_requires_python_picks_the_newest_admitted_version(tmp_path):
    repo = make(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.7,<3.9"\n'})
    spec = read_project(repo)
    offer, why = choose(spec.python, OFFERS)
    assert (offer.version, offer.source, offer.name) == ((3, 8), "host", "/py/3.8.18")
    assert "requires-python '>=3.7,<3.9'" in why


def test_the_default_when_it_is_admitted_and_sources_in_order(tmp_path):
    repo = make(tmp_path, {"setup.cfg": "[options]\npython_requires = >=3.6\n"})
    offer, _ = choose(read_project(repo).python, OFFERS)
    # 3.11 is offered by Debian and by pyenv: the earlier source wins
    assert (offer.version, offer.source) == ((3, 11), "debian")
    offer, why = choose(read_project(make(tmp_path / "bare", {})).python, OFFERS)
    assert offer.version == (3, 11) and "default" in why


def test_tested_versions_from_classifiers_tox_and_ci(tmp_path):
    repo = make(tmp_path, {
        "setup.py": """
            from setuptools import setup
            setup(name="old", python_requires=">=2.7, !=3.0.*", classifiers=[
                "Programming Language :: Python :: 2.7", "Programming Language :: Python :: 3.6"])
        """,
        "tox.ini": "[tox]\nenvlist = py27, py36, {py37,py38}-django{20,21}\n",
        ".github/workflows/ci.yml": """
            jobs:
              test:
                strategy:
                  matrix:
                    python-version: [3.6, "3.7", 3.10]
        """,
        ".travis.yml": "language: python\npython:\n  - '2.7'\n  - \"3.8\"\n",
    })
    need = read_project(repo).python
    assert need.specifier == ">=2.7, !=3.0.*"
    assert need.tested == ((2, 7), (3, 6), (3, 7), (3, 8), (3, 10))
    offer, why = choose(need, OFFERS)
    assert offer.version == (3, 8)   # the newest tested version a source has (3.10 has none here)
    assert "tox.ini envlist: 2.7, 3.6, 3.7, 3.8" in why and "CI files" in why


def test_only_untested_versions_available_takes_the_nearest_newer(tmp_path):
    repo = make(tmp_path, {"setup.py": 'classifiers=["Programming Language :: Python :: 3.5"]\n'})
    offer, _ = choose(read_project(repo).python, OFFERS)
    assert offer.version == (3, 7)


def test_exact_versions_win_and_too_old_is_one_line(tmp_path):
    repo = make(tmp_path, {".python-version": "3.9.18\n",
                           "pyproject.toml": '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.7"\n'})
    assert choose(read_project(repo).python, OFFERS)[0].version == (3, 9)
    assert choose(read_project(repo, python="3.7").python, OFFERS)[0].version == (3, 7)
    make(repo, {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\n[tool.ouro]\npython = "3.13"\n'})
    assert choose(read_project(repo).python, OFFERS)[0].name == "trixie"
    with pytest.raises(NoPython) as e:
        choose(read_project(repo, python="2.7").python, OFFERS)
    assert "3.7 or newer" in str(e.value) and "\n" not in str(e.value) and e.value.exit_code == 2
    with pytest.raises(NoPython, match="no source has Python 3.10"):
        choose(read_project(repo, python="3.10").python, OFFERS)
    with pytest.raises(BadInput, match="expected X.Y"):
        read_project(repo, python="three")


def test_poetry_python_and_dependencies(tmp_path):
    repo = make(tmp_path, {"pyproject.toml": """
        [tool.poetry]
        name = "p"
        [tool.poetry.dependencies]
        python = "~3.8"
        requests = "^2.20"
        click = {version = "^0.7.1", extras = ["x"]}
        docs-only = {version = "*", optional = true}
        [tool.poetry.group.test.dependencies]
        pytest = "~5.4"
    """})
    spec = read_project(repo)
    assert spec.python.specifier == ">=3.8,<3.9"
    assert choose(spec.python, OFFERS)[0].version == (3, 8)
    assert spec.deps.strings((3, 8)) == ["requests>=2.20,<3", "click[x]>=0.7.1,<0.8", "pytest>=5.4,<5.5"]
    assert not spec.deps.project


def test_dependencies_as_a_developer_installs_them(tmp_path):
    repo = make(tmp_path, {
        "pyproject.toml": """
            [project]
            name = "pkg"
            version = "1"
            dependencies = ["attrs>=22"]
            [project.optional-dependencies]
            test = ["hypothesis"]
            docs = ["sphinx"]
            [tool.ouro]
            deps = ["freezegun==1.2"]
        """,
        "requirements.txt": "six\n",
        "requirements-test.txt": "-r requirements.txt\n-e .[test]\nmock  # comment\n",
        "test-requirements.txt": "pytest==4.6.11\n",
        "docs-requirements.txt": "sphinx\n",
        "requirements/dev.txt": "tox\n",
        "tox.ini": "[testenv]\ndeps =\n  -r{toxinidir}/requirements/dev.txt\n  nose\n  py37: pytest<5\n  django20: Django\n",
    })
    deps = read_project(repo, deps=("requests==2.0",)).deps
    assert deps.requirement_files == ("requirements-test.txt", "requirements.txt", "requirements/dev.txt",
                                      "test-requirements.txt")
    assert deps.strings((3, 11)) == ["attrs>=22", "hypothesis", "nose", "freezegun==1.2", "requests==2.0"]
    assert deps.strings((3, 7)) == ["attrs>=22", "hypothesis", "nose", "pytest<5", "freezegun==1.2", "requests==2.0"]
    assert not deps.project   # the `-e .[test]` line resolves the project with its files, once
    again = read_project(repo, deps=("requests==2.0",)).deps
    assert again.fingerprint == deps.fingerprint
    make(repo, {"requirements.txt": "six==1.16\n"})
    assert read_project(repo, deps=("requests==2.0",)).deps.fingerprint != deps.fingerprint


def test_setup_py_only_is_resolved_in_the_sandbox(tmp_path):
    repo = make(tmp_path, {"setup.py": "from setuptools import setup, Extension\nsetup(name='c', "
                                       "ext_modules=[Extension('c._fast', ['c/fast.c'])])\n"})
    deps = read_project(repo).deps
    assert deps.project and deps.extras == ("test", "testing", "tests") and not deps.empty
    assert "ext_modules" in deps.compiled


@pytest.mark.parametrize("where, text", [
    ("requirements.txt", "--find-links ./wheels\nevilpkg==1.0\n"),
    ("requirements.txt", "-f wheels\n"),
    ("requirements.txt", "--index-url=https://evil.example/simple\n"),
    ("requirements.txt", "--extra-index-url https://evil.example/simple\n"),
    ("requirements.txt", "-e ./evilpkg\n"),
    ("requirements.txt", "./evilpkg-1.0.tar.gz\n"),
    ("requirements.txt", "/abs/path/evilpkg\n"),
    ("requirements.txt", "git+https://example.org/evil.git#egg=evil\n"),
    ("requirements.txt", "evil @ https://example.org/evil-1.0.tar.gz\n"),
    ("requirements-dev.txt", "-r requirements.txt\n"),   # included file carries it
    ("pyproject.toml", '[project]\nname = "v"\nversion = "1"\ndependencies = ["evil @ file:///tmp/evil"]\n'),
    ("pyproject.toml", '[tool.poetry.dependencies]\nevil = {git = "https://example.org/evil.git"}\n'),
    ("tox.ini", "[testenv]\ndeps =\n  git+https://example.org/evil.git\n"),
])
def test_requirements_outside_the_index_are_refused_with_one_line(tmp_path, where, text):
    files = {where: text}
    if where == "requirements-dev.txt":
        files["requirements.txt"] = "-f ./wheels\n"
    repo = make(tmp_path, files)
    with pytest.raises(ExternalDependency) as e:
        read_project(repo)
    msg = str(e.value)
    assert "\n" not in msg and "--allow-external-deps" in msg and e.value.exit_code == 2
    read_project(repo, allow_external=True)   # the user's opt-in lets it through (to the sandbox)


def test_includes_stay_inside_the_repository(tmp_path):
    make(tmp_path, {"requirements.txt": "-r ../outside.txt\n"})
    with pytest.raises(BadInput, match="outside the repository"):
        read_project(tmp_path, allow_external=True)


def test_user_deps_outside_the_index_need_the_flag_too(tmp_path):
    with pytest.raises(ExternalDependency, match="--deps"):
        read_project(tmp_path, deps=("git+https://example.org/x.git",))


def test_broken_files_are_one_line_errors(tmp_path):
    make(tmp_path, {"pyproject.toml": "[project\n"})
    with pytest.raises(BadInput, match="not valid TOML"):
        read_project(tmp_path)
    make(tmp_path, {"pyproject.toml": "[tool.ouro]\npython = 3.8\n"})
    with pytest.raises(BadInput, match=r"tool.ouro.python: expected str"):
        read_project(tmp_path)
    make(tmp_path, {"pyproject.toml": "[tool.ouro]\npythn = '3.8'\n"})
    with pytest.raises(BadInput, match="unknown key"):
        read_project(tmp_path)


def test_requires_python_with_patch_versions():
    need = PythonNeed(specifier=">=3.8.1,<3.9")
    assert need.allows((3, 8)) and not need.allows((3, 9)) and not need.allows((3, 7))


def test_host_interpreters_from_pyenv_uv_and_asdf(tmp_path):
    def interp(path: Path, exe: str):
        (path / "bin").mkdir(parents=True)
        (path / "bin" / exe).write_text("")
        os.chmod(path / "bin" / exe, 0o755)

    interp(tmp_path / "pyenv/versions/3.8.10", "python3.8")
    interp(tmp_path / "pyenv/versions/3.8.18", "python3.8")
    interp(tmp_path / "pyenv/versions/pypy3.9-7.3", "python3.9")       # not CPython X.Y.Z: skipped
    interp(tmp_path / "uv/cpython-3.12.4-linux-x86_64-gnu", "python3.12")
    interp(tmp_path / "asdf/installs/python/3.10.2", "python3.10")
    (tmp_path / "pyenv/versions/3.9.1").mkdir()                         # no interpreter inside
    found = host_interpreters({"HOME": str(tmp_path), "PYENV_ROOT": str(tmp_path / "pyenv"),
                               "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv"), "ASDF_DATA_DIR": str(tmp_path / "asdf")})
    assert [(o.full, o.manager) for o in found] == [("3.8.18", "pyenv"), ("3.10.2", "asdf"), ("3.12.4", "uv")]


def test_sources_in_order_a_local_official_image_comes_before_debian():
    from ouro.sandbox.pythons import offers

    env = {"HOME": "/nonexistent"}
    assert [o.source for o in offers("docker", environ=env)] == ["debian"] * 3
    got = offers("docker", local_images={"python:3.9-slim"}, environ=env)
    assert (got[0].source, got[0].name) == ("registry", "python:3.9-slim")
    assert choose(PythonNeed(exact=(3, 9)), got)[0].source == "registry"
    assert len([o for o in offers("gvisor", registry=True, environ=env) if o.source == "registry"]) == 7
    # bwrap has no images to run: the registry is not one of its sources
    assert [o.source for o in offers("bwrap", local_images={"python:3.9-slim"}, registry=True, environ=env)] == ["debian"] * 3


def test_registry_probe_gives_up_within_its_timeout(monkeypatch):
    import time

    from ouro.sandbox import pythons

    monkeypatch.setattr(pythons, "REGISTRY", ("192.0.2.1", 443))   # TEST-NET-1: nothing answers
    t = time.monotonic()
    ok, why = pythons.registry_reachable(timeout=1.0)
    assert not ok and "192.0.2.1" in why and time.monotonic() - t < 2.0

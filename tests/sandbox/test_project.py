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


def test_flit_metadata_python_and_dependencies(tmp_path):
    # flit before PEP 621 (FastAPI until 2020): requires, requires-extra, requires-python
    repo = make(tmp_path, {"pyproject.toml": """
        [build-system]
        requires = ["flit"]
        build-backend = "flit.buildapi"
        [tool.flit.metadata]
        module = "fast"
        requires = ["starlette ==0.12.9", "pydantic >=0.32.2,<2.0.0"]
        requires-python = ">=3.6"
        classifiers = ["Programming Language :: Python :: 3.6", "Programming Language :: Python :: 3.7"]
        [tool.flit.metadata.requires-extra]
        test = ["pytest >=4.0.0", "requests"]
        doc = ["mkdocs"]
    """, "setup.py": "raise SystemExit('never run: flit metadata is read as text')\n"})
    spec = read_project(repo)
    assert spec.python.specifier == ">=3.6" and spec.python.tested == ((3, 6), (3, 7))
    assert spec.deps.strings((3, 7)) == ["starlette ==0.12.9", "pydantic >=0.32.2,<2.0.0", "pytest >=4.0.0", "requests"]
    assert not spec.deps.project   # static metadata: nothing of the project runs to read it


def test_the_runner_coverage_overrides_a_project_pin_of_coverage(tmp_path):
    from ouro.sandbox.envbuild import COVERAGE_FLOOR, plan_for

    old = read_project(make(tmp_path / "old", {"requirements.txt": "coverage>=3.6,<3.999\nmock\n"}))
    plan = plan_for(old.deps, (3, 8), has_runner=False, allow_external=False, need=old.python)
    assert COVERAGE_FLOOR in plan.overrides and "coverage" not in plan.runner
    free = read_project(make(tmp_path / "free", {"requirements.txt": "mock\n"}))
    assert COVERAGE_FLOOR not in plan_for(free.deps, (3, 8), has_runner=False, allow_external=False).overrides
    mine = read_project(make(tmp_path / "mine", {"requirements.txt": "coverage<4\n"}), deps=("coverage==4.5",))
    assert COVERAGE_FLOOR not in plan_for(mine.deps, (3, 8), has_runner=False, allow_external=False).overrides


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


def test_setup_py_literals_are_read_without_running_it(tmp_path):
    # black's setup.py: setuptools_scm needs git, which a copy has not; what the file spells
    # as literals is still what a reader sees, through a module-level name too
    canary = tmp_path / "ran"
    repo = make(tmp_path / "repo", {"setup.py": f"""
        import pathlib
        pathlib.Path({str(canary)!r}).write_text("setup.py ran on the host")
        from setuptools import setup
        REQS = ["click>=7.0", "regex>=2020.1.8"]
        setup(name="b", use_scm_version=True, install_requires=REQS + ["six"],
              extras_require={{"d": ["aiohttp"], "test": ["pytest<6", "mock"]}},
              tests_require=["nose"])
    """})
    deps = read_project(repo).deps
    texts = [(r.text, r.origin) for r in deps.requirements]
    assert texts == [("click>=7.0", "setup.py install_requires"), ("regex>=2020.1.8", "setup.py install_requires"),
                     ("six", "setup.py install_requires"), ("pytest<6", "setup.py extras_require test"),
                     ("mock", "setup.py extras_require test")]
    assert deps.project   # and the metadata build in the sandbox still adds what setup.py computes
    assert not canary.exists()


def test_setup_py_comes_before_a_poetry_table_that_only_manages_development(tmp_path):
    # black in 2018: setup.py builds the package; [tool.poetry] lists the developer's tools,
    # whose pins (mypy==0.620 needs typed-ast<1.2) must not push the package's own needs out
    repo = make(tmp_path, {"setup.py": "from setuptools import setup\nsetup(name='b', install_requires=['typed-ast>=1.3.1'])\n",
                           "pyproject.toml": '[tool.poetry]\nname = "b"\n[tool.poetry.dev-dependencies]\nmypy = "==0.620"\n'})
    texts = [r.text for r in read_project(repo).deps.requirements]
    assert texts[0] == "typed-ast>=1.3.1" and any(t.startswith("mypy") for t in texts[1:])


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
    # only the suites built or buildable here are offered: a 3.9 project then gets pyenv's 3.9
    got = offers("docker", suites=("bookworm",), environ={"HOME": "/nonexistent", "PYENV_ROOT": "/nonexistent"})
    assert [o.name for o in got] == ["bookworm"]
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


# ------------------------------------------------------------------ options pip abbreviates

@pytest.mark.parametrize("line", [
    "--extra-index https://evil.example/simple", "--extra-index-u=https://evil.example/simple", "--extra https://e.x/s",
    "--index https://evil.example/simple", "--index-url=https://evil.example/simple", "-ihttps://evil.example/simple",
    "-i https://evil.example/simple", "--find-link ./wheels", "--find ./wheels", "-f./wheels", "--no-index",
    "--no-i", "--trusted https://evil.example", "--trusted-host evil.example", "--use-feature=truststore",
    "--global-option=--x", "--edit ./evilpkg", "-e ./evilpkg", "--editable=./evilpkg", "--pr", "--no", "--wat",
    "--req=other.txt",   # --requirement or --require-hashes: pip itself refuses the ambiguity
    "--hash=sha256:00", "six==1.16 --global-option=--x", "six==1.16 --install-opt=--x", "six --config-settings=a=b",
])
def test_every_spelling_of_an_option_outside_the_allow_list_is_refused(tmp_path, line):
    repo = make(tmp_path, {"requirements.txt": f"{line}\nsix\n"})
    with pytest.raises(ExternalDependency) as e:
        read_project(repo)
    assert "requirements.txt:1" in str(e.value) and "\n" not in str(e.value) and e.value.exit_code == 2
    read_project(repo, allow_external=True)   # the opt-in lets it through (to the build sandbox)


@pytest.mark.parametrize("line", [
    "--pre", "--prefer-binary", "--prefer", "--only-binary=:all:", "--only-b :all:", "--no-binary=six",
    "--require-hashes", "--require-h", "six==1.16.0 --hash=sha256:1e61 --hash sha256:8abb", "six==1.16.0 --has=sha256:1",
    "-e .", "-e.", "--editable .", "--edit=.[test]", ".[test]", "-c constraints.txt", "--constr=constraints.txt",
    "--requirem=other.txt", "-rother.txt",
])
def test_options_on_the_allow_list_pass_in_any_spelling(tmp_path, line):
    repo = make(tmp_path, {"requirements.txt": f"{line}\n", "constraints.txt": "six<2\n", "other.txt": "attrs\n"})
    read_project(repo)


def test_an_abbreviated_include_is_still_an_include_and_stays_inside(tmp_path):
    make(tmp_path / "repo", {"requirements.txt": "--requireme=../outside.txt\n"})
    make(tmp_path, {"outside.txt": "--extra-index-url https://evil.example/simple\n"})
    with pytest.raises(BadInput, match="outside the repository"):
        read_project(tmp_path / "repo", allow_external=True)
    make(tmp_path / "repo", {"requirements.txt": "--constr inner.txt\n", "inner.txt": "--extra-index https://e.x/s\n"})
    with pytest.raises(ExternalDependency, match="inner.txt:1"):
        read_project(tmp_path / "repo")


# ------------------------------------------------------------------ files outside the repository

def test_setup_cfg_file_traversal_is_refused_and_never_echoed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("--extra-index-url https://OUROSECRET.example/simple\n")
    repo = make(tmp_path / "repo", {"setup.cfg": "[options]\ninstall_requires = file: ../secret.txt\n"})
    with pytest.raises(BadInput) as e:
        read_project(repo, allow_external=True)
    assert "outside the repository" in str(e.value) and "OUROSECRET" not in str(e.value)
    make(repo, {"setup.cfg": "[options]\ninstall_requires = file: ../../../../../../../etc/passwd\n"})
    with pytest.raises(BadInput) as e:
        read_project(repo)
    assert "outside the repository" in str(e.value) and "root:" not in str(e.value)
    # through a link inside the repository: the same
    os.symlink(tmp_path, repo / "up")
    make(repo, {"setup.cfg": "[options]\ninstall_requires = file: up/secret.txt\n"})
    with pytest.raises(BadInput) as e:
        read_project(repo)
    assert "OUROSECRET" not in str(e.value)
    make(repo, {"setup.cfg": "[options]\ninstall_requires = file: reqs/base.txt\n", "reqs/base.txt": "six\n"})
    assert "reqs/base.txt" in read_project(repo).deps.requirement_files


def test_the_reader_reads_nothing_through_a_link_and_no_special_file(tmp_path):
    from ouro.sandbox.project import ProjectFiles

    outside = make(tmp_path / "outside", {"pyproject.toml": "[project]\nname = 'x'\ndependencies = ['evil']\n",
                                          "requirements.txt": "evil\n"})
    repo = make(tmp_path / "repo", {"ok.txt": "fine\n"})
    os.symlink(outside / "pyproject.toml", repo / "pyproject.toml")
    os.symlink(outside, repo / "requirements")
    os.symlink("/dev/zero", repo / "setup.py")
    os.mkfifo(repo / "tox.ini")
    files = ProjectFiles(repo)
    assert files.text("ok.txt") == "fine\n"
    for rel in ("pyproject.toml", "requirements/requirements.txt", "setup.py", "tox.ini", "../outside/requirements.txt",
                str(outside / "requirements.txt")):
        assert files.read(rel) is None, rel
    big = repo / "big.txt"
    big.write_bytes(b"x" * ((1 << 20) + 1))
    assert files.read("big.txt") is None
    deps = read_project(repo).deps   # nothing of the links is read: no dependencies at all
    assert deps.empty, deps


# ------------------------------------------------------------------ tox

def test_common_tox_forms(tmp_path):
    repo = make(tmp_path, {
        "tox.ini": textwrap.dedent("""
            [tox]
            envlist = py{36,37,38}-django{22,30}, lint
            [base]
            deps = attrs
            [testenv]
            deps =
                {[base]deps}
                py{36,37}: mock
                py38-django30: Django>=3.0,<3.1
                django22: Django>=2.2,<2.3
                !py36: six
                -cconstraints.txt
                -c {toxinidir}/constraints.txt
                -e .[test]
                -rci/test.txt
                {posargs}
                py38: -r ci/py38.txt
                git+https://example.org/evil.git
            [testenv:lint]
            deps = flake8
        """),
        "constraints.txt": "attrs<24\n",
        "ci/test.txt": "pytest-mock\n",
        "ci/py38.txt": "freezegun\n",
        "setup.py": "from setuptools import setup\nsetup(name='t')\n",
    })
    with pytest.raises(ExternalDependency, match="tox.ini"):   # a VCS URL is still refused
        read_project(repo)
    make(repo, {"tox.ini": (repo / "tox.ini").read_text().replace("git+https://example.org/evil.git", "??? not a req")})
    spec = read_project(repo)
    assert spec.python.tested == ((3, 6), (3, 7), (3, 8))
    deps = spec.deps
    assert deps.tox_envs[:2] == ("py36-django22", "py36-django30") and len(deps.tox_envs) == 7
    assert deps.select((3, 7)) == ["attrs", "mock", "Django>=2.2,<2.3", "six"]   # py37-django22, the first for 3.7
    assert deps.select((3, 6)) == ["attrs", "mock", "Django>=2.2,<2.3"]
    assert deps.select((3, 8)) == ["attrs", "Django>=2.2,<2.3", "six"]          # py38-django22 comes first
    assert deps.select((3, 11)) == ["attrs", "six"]                             # no environment: just py311
    assert deps.select((3, 8), "constraint") == ["constraints.txt", "constraints.txt"]
    assert deps.files((3, 7)) == ["ci/test.txt"] and deps.files((3, 8)) == ["ci/test.txt", "ci/py38.txt"]
    assert deps.project and "test" in deps.extras
    notes = " | ".join(deps.notes)
    assert "{posargs}" in notes and "??? not a req" in notes and "flake8" not in " ".join(deps.select((3, 8)))


def test_an_environment_with_deps_of_its_own_replaces_testenv_deps(tmp_path):
    repo = make(tmp_path, {"tox.ini": "[tox]\nenvlist = py37, py38\n[testenv]\ndeps = pytest<5\n"
                                      "[testenv:py38]\ndeps =\n  {[testenv]deps}\n  mock\n"})
    deps = read_project(repo).deps
    assert deps.select((3, 7)) == ["pytest<5"]
    assert deps.select((3, 8)) == ["pytest<5", "mock"]


def test_pins_are_what_the_project_names_with_a_version(tmp_path):
    repo = make(tmp_path, {"requirements-test.txt": "pytest==4.6.11\nmock\n", "requirements.txt": "Six>=1,<2\n",
                           "tox.ini": "[testenv]\ndeps = pytest-cov\n  coverage>=4.5\n"})
    deps = read_project(repo, deps=("PyTest-Mock==3.0",)).deps
    assert deps.pinned == ("pytest", "six")   # a floor alone (coverage>=4.5) holds nothing back
    assert deps.user_names() == {"pytest-mock"} and deps.strings((3, 11))[-1] == "PyTest-Mock==3.0"


def test_debian_suites_are_offered_only_when_built_or_buildable(tmp_path, monkeypatch):
    from ouro.sandbox import images, pythons

    monkeypatch.setenv("OURO_CACHE", str(tmp_path / "cache"))
    (images.rootfs_path("trixie") / "usr/bin").mkdir(parents=True)
    (images.rootfs_path("trixie") / "usr/bin/python3").write_text("")
    monkeypatch.setattr(images.os, "geteuid", lambda: 1000)           # not root: debootstrap cannot run
    assert images.usable_suites("bwrap") == {"bookworm": "default", "trixie": "built"}
    monkeypatch.setattr(images.os, "geteuid", lambda: 0)
    monkeypatch.setattr(images.shutil, "which", lambda name: "/usr/sbin/" + name)
    monkeypatch.setattr(pythons, "reachable", lambda *a, **k: (False, "no mirror"))
    assert images.usable_suites("bwrap") == {"bookworm": "default", "trixie": "built"}
    monkeypatch.setattr(pythons, "reachable", lambda *a, **k: (True, "answers"))
    assert images.usable_suites("bwrap") == {"bookworm": "default", "bullseye": "buildable", "trixie": "built"}
    need = PythonNeed(exact=(3, 9))
    host39 = Offer("host", (3, 9), "/py/3.9.18", "3.9.18", "pyenv")
    usable = ("bookworm", "trixie")
    assert choose(need, [o for o in OFFERS if o.source != "host" and (o.source != "debian" or o.name in usable)]
                  + [host39])[0] == host39


def test_the_extras_a_developer_installs_to_run_the_tests():
    from ouro.sandbox.project import extras_for_tests

    assert extras_for_tests({"test": [], "docs": [], "dev": []}) == ["test"]
    assert extras_for_tests({"dev": [], "docs": []}) == ["dev"]
    # no test or dev extra (black's `d` for blackd): the optional features the tests exercise
    assert extras_for_tests({"d": [], "colorama": [], "docs": [], "lint": []}) == ["d", "colorama"]

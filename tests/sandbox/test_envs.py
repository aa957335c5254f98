"""Environments for real: the Python a project needs and its dependencies, built inside a
sandbox (sandbox.images.ensure_env), then its tests run on that Python (docker and bwrap).

Needs a Docker daemon or bubblewrap, the package index (the build step's network), and a
Python 3.8 interpreter on the host (this kind of machine has pyenv builds from 2.7 to 3.13)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ouro.sandbox.images import EnvRequest, ensure_env
from ouro.sandbox.policy import load_policy
from ouro.sandbox.pythons import host_interpreters

OLD_PROJECT = {
    "pyproject.toml": '[project]\nname = "oldlib"\nversion = "0.1"\nrequires-python = ">=3.7,<3.9"\n',
    # collections.Iterable is gone since 3.10: on the default Python this module cannot even work
    "oldlib/__init__.py": """
        import collections


        def flatten(items):
            out = []
            for x in items:
                if isinstance(x, collections.Iterable) and not isinstance(x, str):
                    out.extend(flatten(x))
                else:
                    out.append(x)
            return out[:-1]
    """,
    "tests/test_flatten.py": """
        import sys

        from oldlib import flatten


        def test_flatten():
            assert flatten([1, [2, [3]], 4]) == [1, 2, 3, 4]


        def test_runs_on_38():
            assert sys.version_info[:2] == (3, 8)
    """,
}


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip())
    return root


@pytest.fixture(params=["docker", "bwrap"])
def env_backend(request) -> str:
    request.getfixturevalue("base_image" if request.param == "docker" else "bwrap_available")
    return request.param


@pytest.fixture
def python38():
    if not any(o.version == (3, 8) for o in host_interpreters()):
        pytest.skip("no Python 3.8 interpreter on this host (pyenv, uv or asdf)")


def test_a_project_that_needs_38_reproduces_its_failure_under_38(tmp_path, env_backend, python38):
    from ouro.sandbox.backends import open_sandbox
    from ouro.sandbox.testrun import WarmWorker, run_tests_cold

    # each backend builds its own (another comment, another key): neither reuses the other's site
    repo = make(tmp_path / "oldlib", {**OLD_PROJECT, "requirements-test.txt": f"# built on {env_backend}\n"})
    env = ensure_env(repo, backend=env_backend)
    assert env.runtime.version.startswith("3.8.") and env.runtime.offer.source == "host"
    assert "requires-python '>=3.7,<3.9'" in env.python_why
    # the runner is one of the project's era: the newest Python it admits is 3.8, whose days
    # (Oct 2019 - Oct 2020) ran pytest 5.2 to 6.1; nothing of the project is installed
    assert "pytest>=4.6,<6.2 (constraint)" in env.requested
    assert any(p.startswith("pytest==6.1.") for p in env.installed), env.installed
    # resolved for 3.8 and that pytest: its own dependencies of the time (toml, not tomli)
    assert {p.split("==")[0] for p in env.installed} >= {"toml", "iniconfig", "py"}, env.installed
    assert not any(p.lower().startswith("oldlib") for p in env.installed)
    policy = load_policy().with_backend(env_backend).with_limits(wall_time_s=120)
    with open_sandbox(policy, "repair", workspace=repo) as sb:
        run = run_tests_cold(sb, ["-q"], 120, coverage=True)
        assert run.complete, run.problem
        assert run.outcome("tests/test_flatten.py::test_runs_on_38") == "passed"
        # the behaviour fails, not the import: collections.Iterable works on 3.8
        failure = run.outcomes["tests/test_flatten.py::test_flatten"]
        assert failure.outcome == "failed" and "assert [1] == [1, 2, 3, 4]" in failure.longrepr
        assert "AttributeError" not in failure.longrepr
        assert run.coverage and any("oldlib/__init__.py" in files for files in run.coverage.values())
        # and the warm worker validates a candidate on the same Python
        fixed = (repo / "oldlib/__init__.py").read_text().replace("out[:-1]", "out")
        with WarmWorker(sb) as worker:
            assert worker.run({"oldlib/__init__.py": fixed.encode()}, ["-q"], 120).all_passed


def test_a_setup_py_only_project_gets_its_dependencies(tmp_path, env_backend):
    from ouro.sandbox.backends import open_sandbox

    repo = make(tmp_path / "legacy", {
        # only running setup.py tells what it needs: it computes the list
        "setup.py": """
            from setuptools import setup

            deps = ["six" + "==1.16.0"]
            setup(name="legacy", version="1.0", py_modules=["legacy"], install_requires=deps,
                  extras_require={"test": ["iniconfig==2.0.0"], "docs": ["sphinx"]})
        """,
        "legacy.py": "import six\n\nVALUE = 41\n",
        "tests/test_legacy.py": """
            import iniconfig
            import legacy


            def test_value():
                assert legacy.VALUE == 42
        """,
    })
    env = ensure_env(repo, backend=env_backend)
    assert {"six==1.16.0", "iniconfig==2.0.0"} <= set(env.installed), env.installed
    assert not any(p.lower().startswith(("legacy", "sphinx")) for p in env.installed)
    again = ensure_env(repo, backend=env_backend)
    assert again.key == env.key and again.build_result is None   # cached: no second build
    with open_sandbox(load_policy().with_backend(env_backend), "run", workspace=repo) as sb:
        r = sb.exec(["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"], timeout=120)
    # the test runs (its imports resolve) and fails on the value, from the workspace's legacy.py
    assert r.exit_code == 1 and "assert 41 == 42" in r.stdout, r.stdout + r.stderr


def test_a_direct_reference_computed_by_setup_py_is_refused_in_the_build(tmp_path, base_image):
    from ouro.sandbox.envbuild import BuildRefused

    repo = make(tmp_path / "sneaky", {
        "setup.py": """
            from setuptools import setup
            # computed, so only running setup.py tells it (a literal is refused on the host, before any build)
            setup(name="sneaky", version="1.0", install_requires=["six @ " + "https://files.pythonhosted.org/packages/"
                  "d9/5a/e7c31adbe875f2abbb91bd84cf2dc52d792b5a01506781dbcf25c91daf11/six-1.16.0-py2.py3-none-any.whl".strip()])
        """,
    })
    with pytest.raises(BuildRefused) as e:
        ensure_env(repo)
    assert "outside the package index" in str(e.value) and "\n" not in str(e.value) and e.value.exit_code == 2
    env = ensure_env(repo, EnvRequest(allow_external=True))
    assert "six==1.16.0" in env.installed


def test_an_image_the_user_names_is_the_python(tmp_path, base_image):
    from ouro.sandbox.base import SandboxError
    from ouro.sandbox.images import ImageError

    repo = make(tmp_path / "p", {"pyproject.toml": '[project]\nname = "p"\nversion = "1"\nrequires-python = ">=3.12"\n'})
    env = ensure_env(repo, EnvRequest(image=base_image))   # whatever the project says: the user chose
    assert env.runtime.offer.source == "image" and env.runtime.version.startswith("3.11.")
    assert env.image == base_image and env.site_dir is None and env.python_why == f"--image {base_image}"
    with pytest.raises(ImageError, match="not found") as e:
        ensure_env(repo, EnvRequest(image="ouro-no-such-image:1"))
    assert "\n" not in str(e.value)
    with pytest.raises(SandboxError, match="docker or gvisor"):
        ensure_env(repo, EnvRequest(image=base_image), backend="bwrap")


def test_the_runner_is_of_the_projects_era_and_deps_override_a_pin(tmp_path, bwrap_ready):
    # a project of the 3.7 days whose plugin would pull the newest pytest into its old suite
    repo = make(tmp_path / "era", {
        "setup.cfg": """
            [metadata]
            name = era
            classifiers =
                Programming Language :: Python :: 3.6
                Programming Language :: Python :: 3.7
        """,
        "requirements-test.txt": "pytest-mock\niniconfig==1.1.1\n",
    })
    env = ensure_env(repo, EnvRequest(python="3.11"), backend="bwrap")
    # its era (pytest<5.3) is too old for 3.11: the oldest line that runs there, of 3.11's own days
    assert "pytest>=7.1,<8 (constraint)" in env.requested
    versions = dict(p.split("==") for p in env.installed)
    assert versions["pytest"].startswith("7.") and "pytest-mock" in versions, env.installed
    # --deps pins what the project pins otherwise, and a pytest of its own drops the era's range
    env = ensure_env(repo, EnvRequest(python="3.11", deps=("iniconfig==2.0.0", "pytest==8.0.0")), backend="bwrap")
    versions = dict(p.split("==") for p in env.installed)
    assert versions["iniconfig"] == "2.0.0" and versions["pytest"] == "8.0.0", env.installed
    assert not any("(constraint)" in r for r in env.requested)
    assert any("replaced the project's iniconfig 1.1.1 with 2.0.0" in n for n in env.notes), env.notes


@pytest.mark.slow
def test_an_old_pytest_gets_an_attrs_it_starts_with_and_a_plugin_it_cannot_load_is_turned_off(tmp_path, bwrap_ready):
    """A project of 2018 pins pytest 3.3 on Python 3.7: pip would install today's attrs, which
    that pytest cannot even import with (attr.ib(convert=...)), and a plugin of the project's
    made for a newer pytest (TerminalWriter moved to _pytest._io in pytest 6) would crash it at
    start. Then ouro's own runner and warm worker work with a pytest that old (no
    pytest_runtest_logfinish before 3.4, no iter_markers before 3.6)."""
    from ouro.sandbox.backends import open_sandbox
    from ouro.sandbox.testrun import WarmWorker, run_tests_cold

    if not any(o.version == (3, 7) for o in host_interpreters()):
        pytest.skip("no Python 3.7 interpreter on this host (pyenv, uv or asdf)")
    repo = make(tmp_path / "era2018", {
        "pyproject.toml": '[project]\nname = "era2018"\nversion = "0.1"\nrequires-python = ">=3.6,<3.8"\n',
        "requirements-test.txt": "pytest==3.3.2\n./plugins/shiny\n",
        "plugins/shiny/setup.py": """
            from setuptools import setup

            setup(name="pytest-shiny", version="1.0", py_modules=["pytest_shiny"],
                  entry_points={"pytest11": ["shiny = pytest_shiny"]})
        """,
        "plugins/shiny/pytest_shiny.py": "from _pytest._io import TerminalWriter\n",
        "era2018.py": "def double(x):\n    return x + x + 1\n",
        "tests/test_double.py": ("from era2018 import double\n\n\ndef test_double():\n    assert double(2) == 4\n\n\n"
                                 "def test_type():\n    assert isinstance(double(1), int)\n"),
    })
    request = EnvRequest(allow_external=True)
    env = ensure_env(repo, request, backend="bwrap")
    versions = dict(p.split("==") for p in env.installed)
    assert versions["pytest"] == "3.3.2" and versions["attrs"] < "19.2", env.installed
    assert any("pytest 3.3.2 cannot start with attrs" in n for n in env.notes), env.notes
    assert "shiny" in env.pytest_plugins_off, env.notes
    assert any("turned off" in n and "shiny (" in n and "_pytest._io" in n for n in env.notes), env.notes
    policy = load_policy().with_backend("bwrap").with_limits(wall_time_s=120)
    with open_sandbox(policy, "repair", workspace=repo, request=request) as sb:
        run = run_tests_cold(sb, ["-q"], 120)
        assert run.complete, run.problem
        assert run.outcome("tests/test_double.py::test_type") == "passed"
        failure = run.outcomes["tests/test_double.py::test_double"]
        assert failure.outcome == "failed" and "assert 5 == 4" in failure.longrepr
        fixed = (repo / "era2018.py").read_text().replace(" + 1", "")
        with WarmWorker(sb) as worker:
            assert worker.run({"era2018.py": fixed.encode()}, ["-q"], 120).all_passed

"""Installed pytest plugins that cannot load with the project's (older) pytest are found at
build time and turned off for every run in that environment (sandbox/guest/pytest_plugins.py,
sandbox/guest/envbuild.py, SandboxBase.guest_env)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ouro.sandbox.images import Environment
from ouro.sandbox.local_backend import LocalSandbox
from ouro.sandbox.policy import load_policy

GUEST = Path(__file__).resolve().parents[2] / "sandbox" / "guest"


def _dist(site: Path, name: str, entry: str, module: str, code: str) -> None:
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"   # as wheels name it
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[console_scripts]\n{name} = {module}:main\n\n[pytest11]\n{entry} = {module}\n")
    (site / f"{module}.py").write_text(code)


def test_the_plugins_that_keep_pytest_from_starting_are_found_and_no_others(tmp_path):
    site = tmp_path / "site"
    # made for a newer pytest: one imports what this pytest lacks, one declares an ini type it does not know
    _dist(site, "pytest-shiny", "shiny", "pytest_shiny", "from _pytest._io import NoSuchWriter\n")
    _dist(site, "pytest-newhooks", "newhooks", "pytest_newhooks",
          "def pytest_addoption(parser):\n    parser.addini('shade', 'a colour', type='no-such-type')\n")
    _dist(site, "pytest-fine", "fine", "pytest_fine", "def pytest_configure(config):\n    pass\n")
    # installed without its module (a broken install): its entry point names a module that is not there
    _dist(site, "pytest-ghost", "ghost", "pytest_ghost", "")
    (site / "pytest_ghost.py").unlink()
    # a plugin that needs the project, found on the project's paths: loads, and stays on
    _dist(site, "pytest-proj", "proj", "pytest_proj", "import myproject\nmyproject.ready()\n")
    project = tmp_path / "repo"
    project.mkdir()
    (project / "myproject.py").write_text("def ready():\n    return True\n")
    pytest_site = str(Path(pytest.__file__).resolve().parents[1])   # this pytest, as the project's era one
    out = subprocess.run([sys.executable, "-I", "-S", str(GUEST / "pytest_plugins.py"), str(site), str(project),
                          pytest_site], capture_output=True, text=True, timeout=300, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(found) == ["ghost", "newhooks", "shiny"], found
    assert "NoSuchWriter" in found["shiny"]


def test_a_plugin_is_never_blamed_for_the_projects_own_failure(tmp_path):
    # the project's import fails (perhaps the very bug under repair): the plugin that imports it
    # stays on, so the environment does not depend on which commit built it
    site = tmp_path / "site"
    _dist(site, "pytest-proj", "proj", "pytest_proj", "import myproject\n")
    project = tmp_path / "repo"
    project.mkdir()
    (project / "myproject.py").write_text("raise RuntimeError('the bug')\n")
    pytest_site = str(Path(pytest.__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-I", "-S", str(GUEST / "pytest_plugins.py"), str(site), str(project),
                          pytest_site], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}


def test_every_run_in_such_an_environment_turns_them_off(tmp_path, monkeypatch):
    sb = LocalSandbox.start(load_policy().with_backend("local"), workspace=tmp_path, unsafe_local=True,
                            audit=False, home=tmp_path / "home")
    try:
        env = Environment(image=None, site_dir=None, key="k", runtime=None, pytest_plugins_off=("shiny", "sugar"))
        sb.environment = env
        r = sb.exec([sys.executable, "-c", "import os; print(os.environ.get('PYTEST_ADDOPTS'))"],
                    env={"PYTEST_ADDOPTS": "-x"})
        assert r.stdout.strip() == "-p no:shiny -p no:sugar -x"
        sb.environment = None
        r = sb.exec([sys.executable, "-c", "import os; print(os.environ.get('PYTEST_ADDOPTS'))"])
        assert r.stdout.strip() == "None"
    finally:
        sb.close()

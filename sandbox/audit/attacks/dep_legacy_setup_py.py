# attack: dep_legacy_setup_py
# class: 1
# category: host_build
# kind: write_outside|secret_read|dependency_refused
# run: envbuild
# package: legacy=evil_effect.py
# describe: a local package with only a setup.py (no pyproject): pip runs it through setuptools' legacy backend
# setup.py runs the shared effect (the forbidden host write, the canary read) by importing it.
FILES = {
    "requirements.txt": "@@REPO@@/legacy\n",
    "legacy/setup.py": r'''
import os
import sys

from setuptools import setup

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evil_effect  # noqa: E402,F401 - its import writes the forbidden path and prints the canary

setup(name="legacy", version="1.0", py_modules=[])
''',
}

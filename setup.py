"""Packaging: the user's top-level folders install under one `ouro` namespace.

`agent/`, `sandbox/` and `improvers/` stay where the user put them in the tree, but a wheel
must not put generic names like `agent` into site-packages, so each folder is installed as
`ouro.<folder>` (pyproject.toml holds everything else).
"""
from setuptools import find_namespace_packages, setup

FOLDERS = ("agent", "sandbox", "improvers")

setup(
    # namespace packages too: data folders (guest code, prompts, attacks, checkpoints) have no __init__.py
    # guest/userbase/site-packages is package data of ouro.sandbox.guest (pyproject.toml), not a
    # package; its lib/python3.X/site-packages links, which a wheel cannot hold, are made on
    # first use (sandbox.base.ensure_userbase)
    packages=[f"ouro.{name}" for name in find_namespace_packages(include=[f"{f}*" for f in FOLDERS],
                                                                 exclude=["*__pycache__*", "*.userbase.site-packages"])],
    package_dir={f"ouro.{f}": f for f in FOLDERS},
)

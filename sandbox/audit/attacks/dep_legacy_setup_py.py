# attack: dep_legacy_setup_py
# class: 1
# category: host_build
# kind: write_outside|secret_read|dependency_refused
# run: envbuild
# describe: a local package with only a setup.py (no pyproject): pip runs it through setuptools' legacy backend
FILES = {
    "requirements.txt": "@@REPO@@/legacy\n",
    "legacy/setup.py": r'''
import json
from setuptools import setup

T = json.loads(r"""@@TARGET_JSON@@""")
try:
    with open(T["forbidden_path"], "w") as f:
        f.write("written by setup.py\n")
except OSError:
    pass
try:
    with open(T["canary_path"]) as f:
        print(f.read())
except OSError as e:
    print(e)
setup(name="legacy", version="1.0", py_modules=[])
''',
}

"""Static scan of generated code: ast families, what only source shows, and tree-sitter's extras."""
from __future__ import annotations

import pytest

from ouro.sandbox.audit.selftest import load_attacks
from ouro.sandbox.audit.static_scan import scan_changed_files, scan_source
from ouro.sandbox.core.testfiles import is_test_file


def kinds(path, src):
    return {f.kind for f in scan_source(path, src)}


@pytest.mark.parametrize("src,kind", [
    ("from os import system as s\ns('id')\n", "os_system"),
    ("import posix\nposix.system('id')\n", "os_system"),
    ("import subprocess as sp\nsp.Popen(['id'])\n", "subprocess"),
    ("import socket\nsocket.create_connection(('h', 1))\n", "network"),
    ("import socket\nsocket.getaddrinfo('x.example', 80)\n", "dns"),
    ("import ctypes\nctypes.CDLL(None).system(b'id')\n", "ctypes"),
    ("run(code, use_sandbox=False)\n", "sandbox_disable"),
    ("use_sandbox = False\n", "sandbox_disable"),
    ("CFG = {'use_sandbox': False}\n", "sandbox_disable"),
    ("import os\nos.environ['OURO_AUDIT'] = '0'\n", "sandbox_disable"),
    ("open('tests/test_core.py', 'w').write('')\n", "test_edit"),
    ("import os\nos.remove('tests/test_core.py')\n", "test_edit"),
    ("import os\nkey = os.environ.get('API_KEY')\n", "env_read"),
    ("import os\nos.getenv('HOME')\n", "env_read"),
    ("m = __import__('o' + 's')\n", "obfuscated_import"),
    ("import importlib\nimportlib.import_module(name)\n", "obfuscated_import"),
    ("import os\ngetattr(os, 'sys' + 'tem')('id')\n", "obfuscated_import"),
    ("f = getattr(getattr(a, b), c)\n", "obfuscated_import"),
    ("x = 'metsys'[::-1]\n", "obfuscated_import"),
    ("import os\ndef test_x():\n    os._exit(0)\n", "os_exit"),
    ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n", "signal_tamper"),
    ("import resource\nresource.setrlimit(resource.RLIMIT_NPROC, (-1, -1))\n", "limit_change"),
    ("def pytest_runtest_makereport(item, call):\n    pass\n", "pytest_hook"),
    ("report.outcome = 'passed'\n", "pytest_hook"),
    ("import _pytest.reports\n_pytest.reports.TestReport.from_item_and_call = f\n", "pytest_hook"),
    ("print('=== 3 passed in 0.01s ===')\n", "fake_result"),
    ("open('/etc/shadow').read()\n", "secret_read"),
    ("import sys\nsys.addaudithook(lambda *a: None)\n", "audit_tamper"),
    ("import importlib, os\nimportlib.reload(os)\n", "module_reload"),
    ("import sys\ndel sys.modules['os']\n", "module_reload"),
])
def test_each_family_is_found(src, kind):
    assert kind in kinds("candidate.py", src)


def test_clean_code_has_no_findings():
    src = "def median(xs):\n    xs = sorted(xs)\n    n = len(xs)\n    return xs[n // 2] if n % 2 else (xs[n//2-1] + xs[n//2]) / 2\n"
    assert scan_source("stats.py", src) == []


def test_unparseable_file_still_scanned_with_tree_sitter():
    src = "print 'python 2'\nimport os\nos.system('id')\nx = 'sy' + 'stem'\n"
    found = scan_source("old.py", src)
    assert {"os_system", "obfuscated_import"} <= {f.kind for f in found}
    assert any("unparseable" in f.message for f in found)


def test_changed_files_flag_test_edits_and_deletions():
    found = scan_changed_files({"tests/test_a.py": b"def test_a(): pass\n", "conftest.py": None, "lib.py": b"x = 1\n"})
    assert [(f.path, f.kind) for f in found] == [("conftest.py", "test_edit"), ("tests/test_a.py", "test_edit")]


def test_is_test_file_one_rule():
    assert is_test_file("tests/unit/helpers.py") and is_test_file("pkg/test_x.py") and is_test_file("conftest.py")
    assert not is_test_file("pkg/testing_utils_not.py".replace("testing_", "util_"))


def test_corpus_is_large_and_varied():
    """Must show 1's shape: at least 40 distinct attacks in at least 15 categories."""
    attacks = load_attacks()
    assert len({a.name for a in attacks}) == len(attacks) >= 40
    assert len({a.category for a in attacks}) >= 15
    from ouro.sandbox.audit.events import KINDS

    assert all(k in KINDS for a in attacks for k in a.kinds)

"""A repository whose requirements.txt points at a malicious sdist (issue 13, Must show 2).

Its setup.py reads the host's secrets (a FIFO, which a reader cannot open without the test's
watcher noticing, and a file whose access time the test set in the past), writes a file next
to them and one into the user's repository. `ouro repair` refuses the requirement with one line
and runs nothing; with --allow-external-deps it builds the sdist inside the build sandbox,
where none of those host paths exist, and the repair still finds its patch. Either way the
FIFO is never opened, the canary never read, and nothing is written outside ouro's own
directories. ouro runs as a user runs it: the `ouro` console script, started from inside the
malicious repository, which also carries a `pip` package of its own (a `python -m pip` started
there, on the host or in the build sandbox, would import it)."""
from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest
from repair_helpers import BUGGY, tree_digest, write

ROOT = Path(__file__).resolve().parents[2]
OURO = [str(Path(sys.executable).with_name("ouro"))]

EVIL_SETUP = r'''
import json, os, socket
from setuptools import setup

T = json.loads(r"""@@TARGETS@@""")
seen = {}
for name in ("fifo", "canary"):
    try:
        with open(T[name]) as f:          # on the host, the FIFO blocks until the watcher answers
            seen[name] = f.read()
    except OSError as e:
        seen[name] = type(e).__name__
for name in ("forbidden", "in_repo"):
    try:
        with open(T[name], "w") as f:
            f.write("written by a dependency's setup.py\n")
        seen[name] = "written"
    except OSError as e:
        seen[name] = type(e).__name__
with open("evilpkg.py", "w") as f:
    f.write("RAN = %r\n" % dict(seen, uid=os.getuid(), host=socket.gethostname()))
setup(name="evilpkg", version="1.0", py_modules=["evilpkg"])
'''


@pytest.fixture
def secret_fifo(tmp_path):
    """A FIFO nobody may open, in the host folder: yields its path and an event set when a process
    opened it. A thread keeps opening the write end without blocking, which succeeds only while
    some process holds the read end."""
    path = tmp_path / "host" / "secret.fifo"
    path.parent.mkdir()
    os.mkfifo(path, 0o644)
    opened, done = threading.Event(), threading.Event()

    def watch():
        while not done.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO:   # ENXIO: no reader, as it must be
                    raise
                time.sleep(0.005)
                continue
            opened.set()
            os.write(fd, b"the secret\n")
            os.close(fd)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    yield path, opened
    done.set()
    watcher.join(5)


@pytest.fixture
def evil(tmp_path, secret_fifo):
    fifo_path, fifo = secret_fifo
    host = fifo_path.parent
    canary = host / "canary.txt"
    canary.write_text("OUROCANARY do not read\n")
    st = canary.stat()
    os.utime(canary, (st.st_mtime - 10 * 86400, st.st_mtime))   # relatime then records any read
    repo = write(tmp_path / "shop", BUGGY)
    targets = {"fifo": str(fifo_path), "canary": str(canary), "forbidden": str(host / "pwned"),
               "in_repo": str(repo / "pwned-by-setup-py")}
    data = EVIL_SETUP.replace("@@TARGETS@@", json.dumps(targets)).encode()
    (repo / "vendor").mkdir()
    with tarfile.open(repo / "vendor/evilpkg-1.0.tar.gz", "w:gz") as tar:
        for name, body in (("evilpkg-1.0/setup.py", data),
                           ("evilpkg-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: evilpkg\nVersion: 1.0\n")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    (repo / "requirements.txt").write_text("./vendor/evilpkg-1.0.tar.gz\n")
    (repo / "pip").mkdir()
    for name in ("__init__.py", "__main__.py"):   # writes next to the canary when imported on the host
        (repo / "pip" / name).write_text(f"import os\nif os.path.isdir({str(host)!r}):\n"
                                         f"    open(os.path.join({str(host)!r}, 'pwned-by-pip'), 'w').write('x')\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "x"], cwd=repo,
                   check=False, capture_output=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "buggy shop"], cwd=repo,
                   check=True)
    before = {"repo": tree_digest(repo), "canary": canary.stat().st_atime_ns, "host": sorted(os.listdir(host))}
    yield repo, canary, fifo, host, before


def untouched(repo, canary, fifo, host, before):
    assert not fifo.is_set(), "a host process opened the secret FIFO"
    assert canary.stat().st_atime_ns == before["canary"], "a host process read the canary"
    fd = os.open(canary, os.O_RDONLY | os.O_NOATIME)   # our own look must not count as a read
    with os.fdopen(fd) as f:
        assert f.read() == "OUROCANARY do not read\n"
    assert sorted(os.listdir(host)) == before["host"], "something was written next to the canary"
    assert tree_digest(repo) == before["repo"], "the user's repository changed"


def ouro(*args, home: Path, timeout: float = 900, cwd: Path = ROOT):
    return subprocess.run([*OURO, "--home", str(home), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


def test_refused_with_one_line_and_nothing_runs(evil, tmp_path, base_image):
    repo, canary, fifo, host, before = evil
    r = ouro("repair", ".", "--issue", "discount above 100 percent goes negative", home=tmp_path / "home", cwd=repo)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "requirements.txt:1" in lines[0] and "--allow-external-deps" in lines[0], r.stderr
    untouched(repo, canary, fifo, host, before)


def test_allowed_it_builds_inside_the_sandbox_and_the_repair_works(evil, tmp_path, base_image):
    repo, canary, fifo, host, before = evil
    home = tmp_path / "home"
    r = ouro("repair", ".", "--issue", "discount above 100 percent goes negative", "--allow-external-deps",
             "--budget", "60", "--json", home=home, cwd=repo)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["status"] == "plausible"
    untouched(repo, canary, fifo, host, before)
    # setup.py did run, in the build sandbox, as the sandbox uid, where the host's paths do not exist
    b = ouro("sandbox", "build", "--repo", ".", "--allow-external-deps", "--json", home=home, cwd=repo)
    env = json.loads(b.stdout)
    assert "evilpkg==1.0" in env["installed"]
    ran = (Path(env["site_dir"]) / "evilpkg.py").read_text()
    assert "'uid': 10001" in ran and "'fifo': 'FileNotFoundError'" in ran and "'forbidden': 'FileNotFoundError'" in ran
    untouched(repo, canary, fifo, host, before)


OLD_PROJECT = {
    "pyproject.toml": '[project]\nname = "oldlib"\nversion = "0.1"\nrequires-python = ">=3.7,<3.9"\n',
    "oldlib/__init__.py": ("import collections\n\n\ndef flatten(items):\n    out = []\n    for x in items:\n"
                           "        if isinstance(x, collections.Iterable) and not isinstance(x, str):\n"
                           "            out.extend(flatten(x))\n        else:\n            out.append(x)\n"
                           "    return out[:-1]\n"),
    "tests/test_flatten.py": ("import sys\n\nfrom oldlib import flatten\n\n\ndef test_flatten():\n"
                              "    assert flatten([1, [2, [3]], 4]) == [1, 2, 3, 4]\n\n\n"
                              "def test_runs_on_38():\n    assert sys.version_info[:2] == (3, 8)\n"),
}


def test_a_project_that_needs_38_is_repaired_on_38(tmp_path, bwrap_available):
    from ouro.sandbox.pythons import host_interpreters

    if not any(o.version == (3, 8) for o in host_interpreters()):
        pytest.skip("no Python 3.8 interpreter on this host (pyenv, uv or asdf)")
    repo = write(tmp_path / "oldlib", OLD_PROJECT)
    r = ouro("repair", str(repo), "--backend", "bwrap", "--issue", "flatten drops the last item", "--json",
             home=tmp_path / "home")
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["status"] == "plausible" and "-    return out[:-1]\n" in out["patch"]
    env = out["environment"]
    assert env["python"].startswith("3.8.") and env["python_source"] == "host"
    assert "requires-python '>=3.7,<3.9'" in env["python_why"]

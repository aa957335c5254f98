"""The environment build against a hostile repository: what its packaging code can reach from
the build sandbox (only the package index, through the host's allow-listing proxy), what the
host copies out of it (directories and regular files, never a link), and what of its text
reaches the user (escaped). Real sandboxes, real listeners on the host: each check counts what
the host saw, not what the sandbox says."""
from __future__ import annotations

import io
import json
import os
import socket
import stat
import tarfile
import threading
from pathlib import Path

import pytest

from ouro.sandbox.core.files import copy_untrusted_tree

from test_envs import make


def links_in(tree: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode) or not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
                out.append(str(p.relative_to(tree)))
    return out


# ------------------------------------------------------------------ copying a tree the sandbox wrote

def test_copy_untrusted_tree_copies_no_link_at_all(tmp_path):
    src = tmp_path / "a" / "b" / "site"
    (src / "deep" / "dir").mkdir(parents=True)
    (tmp_path / "a" / "secret.txt").write_text("OUROSECRET\n")
    # each link's text stays inside the tree; the chain leads out: l2 -> l1/.. -> site/.. = b/
    os.symlink("../..", src / "deep" / "dir" / "l1")
    os.symlink("l1/..", src / "deep" / "dir" / "l2")
    os.symlink("deep/dir/l2/../secret.txt", src / "chained")
    os.symlink("/etc", src / "abs")
    os.symlink("/dev/zero", src / "zero.py")
    (src / "pkg").mkdir()
    (src / "pkg" / "mod.py").write_text("X = 1\n")
    os.link(src / "pkg" / "mod.py", src / "pkg" / "hard.py")
    os.mkfifo(src / "pkg" / "fifo")
    dst = tmp_path / "out"
    copy_untrusted_tree(src, dst, max_bytes=1 << 20)
    assert links_in(dst) == []
    assert sorted(str(p.relative_to(dst)) for p in dst.rglob("*")) == ["deep", "deep/dir", "pkg", "pkg/hard.py",
                                                                       "pkg/mod.py"]
    assert (dst / "pkg" / "hard.py").read_text() == "X = 1\n"


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    buf.seek(0)
    return buf


def _member(name: str, kind=tarfile.REGTYPE, linkname: str = "", mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, linkname, mode
    return info


def test_the_docker_unpacker_keeps_files_and_directories_only(tmp_path):
    from ouro.sandbox.docker_backend import _unpack_plain

    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    long_dir = "d" * 200
    deep = "/".join([long_dir] * 24)     # longer than PATH_MAX once resolved (CVE-2025-4517's shape)
    members = [
        (_member("./pkg", tarfile.DIRTYPE, mode=0o7777), None),
        (_member("./pkg/ok.py"), b"OK = 1\n"),
        (_member("./pkg/tool", mode=0o6777), b"#!/bin/sh\n"),
        (_member("./up", tarfile.SYMTYPE, "../outside"), None),
        (_member("./up/pwned.txt"), b"through a link\n"),
        (_member("./chain/l1", tarfile.SYMTYPE, "../.."), None),
        (_member("./chain/l2", tarfile.SYMTYPE, "l1/../outside"), None),
        (_member("./chain/l2/pwned.txt"), b"through a chain\n"),
        (_member("./hard", tarfile.LNKTYPE, "../outside/target"), None),
        (_member("../outside/dotdot.txt"), b"dotdot\n"),
        (_member("/tmp/absolute.txt"), b"absolute\n"),
        (_member("./fifo", tarfile.FIFOTYPE), None),
        (_member("./dev", tarfile.CHRTYPE), None),
        (_member(f"./{deep}/x", tarfile.SYMTYPE, "/"), None),
        (_member("./pkg/ok.py"), b"OK = 2\n"),   # a second copy replaces the first, never writes through it
    ]
    _unpack_plain(_tar(members), dest)
    assert sorted(os.listdir(outside)) == []
    assert links_in(dest) == []
    assert (dest / "pkg" / "ok.py").read_text() == "OK = 2\n"
    assert stat.S_IMODE((dest / "pkg" / "tool").stat().st_mode) == 0o755   # no set-id, no world write
    assert stat.S_IMODE((dest / "pkg").stat().st_mode) == 0o755
    assert not (dest / "up" / "pwned.txt").exists() or (dest / "up").is_dir()
    assert not Path("/tmp/absolute.txt").exists()


# ------------------------------------------------------------------ the build sandbox's network

class Listener:
    """A host listener that records every connection it accepts."""

    def __init__(self, family, address):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(address)
        self.sock.listen(16)
        self.address = self.sock.getsockname()
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _gateway() -> str:
    import docker

    try:
        cfg = docker.from_env().networks.get("bridge").attrs["IPAM"]["Config"][0]
        return cfg.get("Gateway") or cfg["Subnet"].rsplit(".", 2)[0] + ".0.1"
    except Exception:   # no daemon: the default bridge's usual address
        return "172.17.0.1"


PROBE = r'''
import json, os, socket, sys
T = json.loads(sys.argv[1])
out = {}
def tcp(host, port):
    try:
        socket.create_connection((host, port), timeout=5).close()
        return "connected"
    except OSError as e:
        return type(e).__name__
out["loopback"] = tcp("127.0.0.1", T["loopback"])
out["gateway"] = tcp(T["gateway"], T["any"])
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\0" + T["abstract"])
    out["abstract"] = "connected"
except OSError as e:
    out["abstract"] = type(e).__name__
def connect(target):
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.environ["OURO_PROXY_SOCKET"])
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)).encode())
    return s.recv(200).split(b"\r\n")[0].decode()
for name, target in T["via_proxy"].items():
    out["proxy " + name] = connect(target)
sys.path.insert(0, T["guest"])
import envbuild
port = envbuild.start_forwarder(os.environ["OURO_PROXY_SOCKET"])
proxy = "http://127.0.0.1:%d" % port
env = dict(os.environ, HTTPS_PROXY=proxy, https_proxy=proxy)
import subprocess
p = subprocess.run(envbuild.PIP + ["download", "--no-deps", "--quiet", "-d", "/tmp/dl", "iniconfig==2.0.0"],
                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
out["pip"] = p.returncode
out["downloaded"] = sorted(os.listdir("/tmp/dl")) if os.path.isdir("/tmp/dl") else []
print(json.dumps(out))
'''


@pytest.fixture(params=["docker", "bwrap"])
def build_backend(request) -> str:
    request.getfixturevalue("base_image" if request.param == "docker" else "bwrap_ready")
    return request.param


def test_the_build_reaches_the_index_and_nothing_of_the_host(tmp_path, build_backend):
    from ouro.sandbox import envbuild, images
    from ouro.sandbox.policy import load_policy

    loopback = Listener(socket.AF_INET, ("127.0.0.1", 0))
    anywhere = Listener(socket.AF_INET, ("0.0.0.0", 0))
    abstract_name = f"ouro-test-{os.getpid()}-{build_backend}"
    abstract = Listener(socket.AF_UNIX, "\0" + abstract_name)
    gateway = _gateway()
    repo = make(tmp_path / "repo", {"requirements.txt": "iniconfig\n"})
    spec, offer, _ = images.choose_runtime(repo, images.EnvRequest(), build_backend)
    runtime = images.prepare_runtime(offer, build_backend)
    bare = images.Environment(image=runtime.image, site_dir=None, key="", runtime=runtime)
    targets = {"loopback": loopback.address[1], "any": anywhere.address[1], "gateway": gateway,
               "abstract": abstract_name, "guest": "/opt/ouro/guest",
               "via_proxy": {"index": "pypi.org:443", "loopback": f"127.0.0.1:{loopback.address[1]}",
                             "localhost": f"localhost:{loopback.address[1]}",
                             "gateway": f"{gateway}:{anywhere.address[1]}", "other": "example.com:443",
                             "index on another port": f"pypi.org:{anywhere.address[1]}"}}
    try:
        with envbuild.build_sandbox(repo, bare, build_backend, load_policy()) as (sb, env, proxy):
            r = sb.exec([sb.python, "-c", PROBE, json.dumps(targets)], env=env, timeout=300)
            decisions = list(proxy.decisions)
    finally:
        for listener in (loopback, anywhere, abstract):
            listener.close()
    assert r.exit_code == 0, r.stderr[-2000:]
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    # what the host saw: no connection on any of its listeners
    assert (loopback.accepted, anywhere.accepted, abstract.accepted) == (0, 0, 0), seen
    assert seen["loopback"] != "connected" and seen["gateway"] != "connected" and seen["abstract"] != "connected"
    assert seen["proxy index"] == "HTTP/1.1 200 Connection established"
    for name in ("loopback", "localhost", "gateway", "other", "index on another port"):
        assert seen[f"proxy {name}"].startswith("HTTP/1.1 403"), (name, seen)
    assert not any(d.allowed for d in decisions if d.host != "pypi.org" and d.host != "files.pythonhosted.org")
    # and the index still installs: pip through the forwarder and the proxy
    assert seen["pip"] == 0 and seen["downloaded"] == ["iniconfig-2.0.0-py3-none-any.whl"], seen


def test_the_proxy_with_external_deps_allowed_still_refuses_non_public_addresses():
    from ouro.sandbox.netproxy import IndexProxy, index_hosts

    hosts = index_hosts(["https://pypi.org/simple", "https://mirror.example:8443/simple"], ["10.1.2.3:8080"])
    assert hosts == {"pypi.org": {443}, "files.pythonhosted.org": {443}, "mirror.example": {8443}, "10.1.2.3": {8080}}
    with IndexProxy({"pypi.org": {443}}, allow_public=True) as proxy:
        for host in ("localhost", "127.0.0.1", "169.254.169.254", "10.0.0.1", "::1", "0.0.0.0"):
            addresses, why = proxy.resolve(host, 443)
            assert not addresses and "non-public" in why, (host, why)
        assert proxy.resolve("pypi.org", 8443)[1]
        assert "not an https or http port" in proxy.resolve("example.com", 22)[1]
    with IndexProxy({"pypi.org": {443}}) as proxy:
        assert "not a package index host" in proxy.resolve("example.com", 443)[1]
        assert not (proxy.dir / "proxy.sock").exists() or proxy.dir.exists()
    assert not proxy.dir.exists()


# ------------------------------------------------------------------ a build that plants links

PLANTER = r'''
import os
from setuptools import setup

out = "/tmp/ouro-out/ouro-site" if os.path.isdir("/tmp/ouro-out") else "/tmp/ouro-site"
os.makedirs(out + "/deep/dir", exist_ok=True)
def plant(fn, *args):
    try:
        fn(*args)
    except OSError:
        pass
plant(os.symlink, "../..", out + "/deep/dir/l1")
plant(os.symlink, "l1/..", out + "/deep/dir/l2")
plant(os.symlink, "/", out + "/rootfs")
plant(os.symlink, "/etc", out + "/bait.dist-info")
plant(os.makedirs, out + "/evil-1.0.dist-info")
plant(os.symlink, "/etc/passwd", out + "/evil-1.0.dist-info/METADATA")
with open(out + "/planted.txt", "w") as f:
    f.write("planted\n")
plant(os.link, out + "/planted.txt", out + "/hard.txt")
plant(os.mkfifo, out + "/fifo")
import sys
sys.stderr.write("\x1b]0;OUROTITLE\x07\x1b[2J shown to the user\n")
setup(name="planter", version="1.0", py_modules=[], install_requires=["iniconfig==2.0.0"])
'''


def test_links_a_build_plants_in_the_site_never_reach_the_host(tmp_path, build_backend):
    from ouro.sandbox.images import ensure_env

    repo = make(tmp_path / "planter", {"setup.py": PLANTER, "requirements.txt": f"# {build_backend}\n"})
    env = ensure_env(repo, backend=build_backend)
    site = Path(env.site_dir)
    # the planting did happen; of a hard-linked pair the tar over docker keeps the first copy only
    kept = [n for n in ("planted.txt", "hard.txt") if (site / n).exists()]
    assert kept and all((site / n).read_text() == "planted\n" and (site / n).stat().st_nlink == 1 for n in kept)
    assert links_in(site) == [], links_in(site)
    assert (site / "deep" / "dir").is_dir() and not (site / "rootfs").exists()
    assert "iniconfig==2.0.0" in env.installed and not any(p.startswith("evil") or "root:" in p for p in env.installed)


def test_what_a_setup_py_prints_reaches_the_user_escaped(tmp_path, bwrap_ready):
    from ouro.sandbox.images import ensure_env

    repo = make(tmp_path / "loud", {"setup.py": """
        import sys
        sys.stderr.write("\\x1b]0;OUROTITLE\\x07\\x1b[2J\\x9b31m metadata fails\\n")
        raise SystemExit("\\x1b]8;;http://evil.example\\x07click\\x1b]8;;\\x07")
    """})
    env = ensure_env(repo, backend="bwrap")
    notes = " ".join(env.notes)
    assert "could not be resolved" in notes, env.notes
    assert not any(c in notes for c in "\x1b\x07\x9b\n"), notes


def test_messages_with_repository_text_are_one_printable_line(tmp_path, capsys):
    from ouro.agent.cli import main
    from ouro.sandbox.core.text import escape_control, one_line

    assert escape_control("a\x1b[2Jb\tc\nd\x9b\x07") == "a\\x1b[2Jb\tc\nd\\x9b\\x07"
    assert one_line("a\nb\x1b") == "a\\x0ab\\x1b"
    repo = make(tmp_path / "r", {"requirements.txt": "--index-url=https://e.x/\x1b]0;OUROTITLE\x07\n"})
    code = main(["--home", str(tmp_path / "home"), "sandbox", "build", "--repo", str(repo), "--backend", "bwrap"])
    err = capsys.readouterr().err
    assert code == 2 and "requirements.txt:1" in err and "OUROTITLE" in err
    assert not any(c in err for c in "\x1b\x07"), err

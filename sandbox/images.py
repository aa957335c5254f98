"""Sandbox images, built offline: a Debian root file system, the Docker base image imported
from it, and per-repository environment images with the repository's third-party deps.

Nothing is pulled from a registry (none may be reachable): `debootstrap` builds a
bookworm root from Debian packages, and `docker import` turns it into `ouro-base:bookworm`.
A repository's dependencies are installed on the HOST with the host's pip (which has a
package mirror configured) into a target directory, then copied into an image built FROM the
base: the code under test itself never gets a network.

Everything is cached: the root file system under ~/.cache/ouro/ (or $OURO_CACHE), images by
tag (the environment tag carries a hash of the dependency files), so a second build is a no-op.
Concurrent ouro processes serialise builds on a lock file instead of building twice.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ouro.sandbox.base import SandboxError

BASE_IMAGE = "ouro-base:bookworm"
ENV_IMAGE_REPO = "ouro-env"
SANDBOX_UID = 10001
# Debian's python3 puts this directory on sys.path ahead of /usr/lib/python3/dist-packages, and
# processes .pth files in it, so a repository's pinned deps win over the base image's packages
# without any PYTHONPATH (which the audit hook's boot dir already uses).
SITE_IN_SANDBOX = "/usr/local/lib/python3.11/dist-packages"
DEBIAN_PACKAGES = ("python3", "python3-venv", "python3-pip", "python3-pytest", "python3-coverage")
# Bump when the root file system recipe changes, so old caches are not reused.
ROOTFS_VERSION = "v1"
DEPENDENCY_FILES = ("pyproject.toml", "setup.cfg", "setup.py")


class ImageError(SandboxError):
    """An image or root file system could not be built; the message says why and what to do."""


@dataclass(frozen=True)
class Environment:
    """What a sandbox needs to run one repository's tests."""

    image: str                 # docker tag: base image plus the repo's third-party deps
    site_dir: Path | None      # host dir holding those deps (bwrap binds it at SITE_IN_SANDBOX)
    deps: tuple[str, ...]      # the requirement strings that were installed
    key: str                   # hash of the dependency files ("" when there are none)
    site_in_sandbox: str = SITE_IN_SANDBOX


def cache_dir() -> Path:
    root = os.environ.get("OURO_CACHE") or Path.home() / ".cache" / "ouro"
    return Path(root)


@contextlib.contextmanager
def _locked(name: str):
    """An exclusive lock shared by every ouro process on this machine (a flock on a file)."""
    lock_dir = cache_dir() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def rootfs_path() -> Path:
    return cache_dir() / "rootfs" / f"bookworm-{ROOTFS_VERSION}"


def base_rootfs() -> Path:
    """A debootstrap'ed bookworm root with python3, pytest and coverage; built once, cached.

    Built into a temporary directory and renamed into place, so a half-built root (a crash, a
    Ctrl-C) is never mistaken for a finished one.
    """
    final = rootfs_path()
    if (final / "usr/bin/python3").exists():
        return final
    if not shutil.which("debootstrap"):
        raise ImageError("debootstrap is not installed (run `ouro sandbox setup`, or apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise ImageError("building the base root file system needs root (debootstrap); run `ouro sandbox setup` as root")
    with _locked("rootfs"):
        if (final / "usr/bin/python3").exists():  # another process built it while we waited
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
        try:
            proc = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}", "bookworm", str(tmp)],
                capture_output=True, text=True)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                raise ImageError(f"debootstrap failed (exit {proc.returncode}): {' | '.join(tail)}")
            _add_sandbox_user(tmp)
            # apt's package cache is dead weight in every image
            shutil.rmtree(tmp / "var/cache/apt/archives", ignore_errors=True)
            (tmp / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


def _add_sandbox_user(root: Path) -> None:
    """Give uid 10001 a name and a writable home (/tmp), so getpass/HOME-using tools work."""
    passwd = root / "etc/passwd"
    if f":{SANDBOX_UID}:" not in passwd.read_text():
        with open(passwd, "a") as f:
            f.write(f"ouro:x:{SANDBOX_UID}:{SANDBOX_UID}:ouro sandbox:/tmp:/bin/sh\n")
        with open(root / "etc/group", "a") as f:
            f.write(f"ouro:x:{SANDBOX_UID}:\n")
    for d in ("workspace", "opt/ouro/guest", SITE_IN_SANDBOX.lstrip("/")):
        (root / d).mkdir(parents=True, exist_ok=True)


def docker_client():
    """A docker SDK client, or PreconditionFailed (exit 3) naming `ouro sandbox setup`."""
    import docker  # heavy; imported only by the commands that talk to Docker
    from ouro.sandbox.core.errors import PreconditionFailed

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as e:  # docker raises DockerException, requests errors, FileNotFoundError...
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PreconditionFailed(
            f"the Docker daemon is not reachable ({first[:160]}); run `ouro sandbox setup` to install and start it") from None
    return client


def image_exists(client, tag: str) -> bool:
    import docker

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def ensure_base_image(client=None) -> str:
    """The Docker image `ouro-base:bookworm`, imported from base_rootfs() when missing."""
    client = client or docker_client()
    if image_exists(client, BASE_IMAGE):
        return BASE_IMAGE
    root = base_rootfs()
    with _locked("base-image"):
        if image_exists(client, BASE_IMAGE):
            return BASE_IMAGE
        # `tar | docker import` streams the root without a temporary archive on disk.
        changes = ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "ENV LANG=C.UTF-8", "ENV HOME=/tmp", "WORKDIR /workspace"]
        cmd = ["docker", "import"]
        for c in changes:
            cmd += ["--change", c]
        cmd += ["-", BASE_IMAGE]
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(cmd, stdin=tar.stdout, capture_output=True, text=True)
        tar.stdout.close()
        tar.wait()
        if tar.returncode != 0 or imp.returncode != 0:
            raise ImageError(f"docker import of {root} failed: {imp.stderr.strip()[:300]}")
    return BASE_IMAGE


# ---------------------------------------------------------------- per-repository environments

def dependency_files(repo_dir: Path) -> list[Path]:
    repo_dir = Path(repo_dir)
    files = sorted(repo_dir.glob("requirements*.txt"))
    files += [repo_dir / n for n in DEPENDENCY_FILES if (repo_dir / n).is_file()]
    return files


def dependency_key(repo_dir: Path) -> str:
    """A hash of the dependency files' names and contents ("" when the repo has none)."""
    files = dependency_files(repo_dir)
    if not files:
        return ""
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def declared_requirements(repo_dir: Path) -> tuple[list[str], list[Path]]:
    """Requirement strings from pyproject/setup.cfg, and requirements files for `pip -r`.

    The repository's own package is never installed: its code comes from the workspace, so
    a patch is what the tests import.
    """
    repo_dir = Path(repo_dir)
    reqs: list[str] = []
    pyproject = repo_dir / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ImageError(f"{pyproject}: not valid TOML: {e}") from None
        reqs += list(data.get("project", {}).get("dependencies", []) or [])
    setup_cfg = repo_dir / "setup.cfg"
    if setup_cfg.is_file():
        import configparser

        cp = configparser.ConfigParser()
        try:
            cp.read(setup_cfg, encoding="utf-8")
            raw = cp.get("options", "install_requires", fallback="")
        except configparser.Error as e:
            raise ImageError(f"{setup_cfg}: cannot parse: {e}") from None
        reqs += [line.strip() for line in raw.splitlines() if line.strip() and not line.strip().startswith("#")]
    return reqs, sorted(repo_dir.glob("requirements*.txt"))


def _pip_install_target(target: Path, reqs: list[str], req_files: list[Path]) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-warn-script-location", "--target", str(target)]
    for rf in req_files:
        cmd += ["-r", str(rf)]
    cmd += reqs
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-2:]
        raise ImageError(f"pip could not install the repository's dependencies: {' | '.join(tail)}")


def ensure_env(repo_dir: Path, client=None) -> Environment:
    """The environment for a repository: base image plus its third-party dependencies.

    Cached by a hash of the dependency files: the site dir lives under the cache and the
    image is tagged `ouro-env:<hash>`, so a second call costs one image lookup.
    """
    repo_dir = Path(repo_dir)
    if not repo_dir.is_dir():
        raise ImageError(f"{repo_dir}: not a directory")
    client = client or docker_client()
    base = ensure_base_image(client)
    reqs, req_files = declared_requirements(repo_dir)
    key = dependency_key(repo_dir)
    if not reqs and not any(f.read_text(errors="replace").strip() for f in req_files):
        return Environment(image=base, site_dir=None, deps=(), key=key)
    tag = f"{ENV_IMAGE_REPO}:{key}"
    site = cache_dir() / "sites" / key
    with _locked(f"env-{key}"):
        if not (site / ".ouro-complete").exists():
            tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=_mkdir(site.parent)))
            try:
                _pip_install_target(tmp, reqs, req_files)
                (tmp / ".ouro-complete").write_text("\n".join(reqs) + "\n")
                shutil.rmtree(site, ignore_errors=True)
                os.rename(tmp, site)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        if not image_exists(client, tag):
            _build_env_image(client, base, site, tag, key)
    return Environment(image=tag, site_dir=site, deps=tuple(reqs), key=key)


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def _build_env_image(client, base: str, site: Path, tag: str, key: str) -> None:
    """FROM base, COPY the site dir; the build context is streamed as an in-memory tar."""
    import docker

    dockerfile = (f"FROM {base}\n"
                  f"COPY site/ {SITE_IN_SANDBOX}/\n"
                  f'LABEL ouro.env="{key}"\n')
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        tar.add(site, arcname="site", filter=_readable)
    buf.seek(0)
    try:
        client.images.build(fileobj=buf, custom_context=True, tag=tag, rm=True, forcerm=True, network_mode="none")
    except docker.errors.BuildError as e:
        raise ImageError(f"building {tag} failed: {e}") from None


def _readable(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # The sandbox uid must read the deps; root-owned 0644/0755 files are what pip writes.
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode |= 0o444 | (0o111 if info.isdir() else 0)
    return info

"""Sandbox images and environments: a Python for the project and its dependencies, built
without running any of the repository's code on the host.

Three layers, each cached:
1. a Python runtime (where it comes from is sandbox.pythons' decision): a Debian suite's root
   file system built by `debootstrap` and imported as `ouro-base:<suite>` (no registry
   needed); an official or user-named image; or a host interpreter (pyenv, uv, asdf) copied
   with hard links, without its site-packages, into `ouro-python:<version>-<hash>` FROM the
   bookworm base at its own prefix (bwrap binds the same copy read-only there instead);
2. the project's dependencies (sandbox.project says what it declares), resolved and installed
   INSIDE a build sandbox (sandbox.envbuild) and copied out into a site directory;
3. `ouro-env:<key>`: FROM the runtime, with the site directory at the runtime's site-packages
   (bwrap binds the directory read-only there).

The key hashes the runtime's identity (suite and recipe, image id, or interpreter path and
binary) and the dependency set (every file read and every requirement string), so a changed
requirement or another Python makes a new environment and a second build is a no-op.
Everything lives under ~/.cache/ouro/ (or $OURO_CACHE); concurrent ouro processes serialise
builds on lock files instead of building twice.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ouro.sandbox.base import LABEL, ExecResult, SandboxError
from ouro.sandbox.pythons import DEFAULT_SUITE, SUITES, Offer

BASE_IMAGE = f"ouro-base:{DEFAULT_SUITE}"
ENV_IMAGE_REPO = "ouro-env"
PYTHON_IMAGE_REPO = "ouro-python"
SANDBOX_UID = 10001
DEBIAN_PACKAGES = ("python3", "python3-venv", "python3-pip", "python3-pytest", "python3-coverage")
# Bump when the root file system recipe changes, so old caches are not reused.
ROOTFS_VERSION = "v1"
# Bump when what goes into an environment changes (the build's recipe), for the same reason.
ENV_RECIPE = "env4"


def _env_recipe() -> str:
    """ENV_RECIPE and the build script's own text: a change to how the guest resolves and
    installs makes a new environment, never a stale one from the cache."""
    guest = Path(__file__).resolve().parent / "guest"
    text = b"".join((guest / name).read_bytes() for name in ("envbuild.py", "pytest_plugins.py"))
    return ENV_RECIPE + ":" + hashlib.sha256(text).hexdigest()[:12]


# What a copied host interpreter leaves behind: its own site-packages but pip (a user's
# packages and start-up .pth files are not the project's environment), the standard
# library's own test suite and static libraries.
_PRUNE = ("lib/python{v}/test", "lib/python{v}/config-{v}-x86_64-linux-gnu/libpython{v}.a")


class ImageError(SandboxError):
    """An image or root file system could not be built; the message says why and what to do."""


@dataclass(frozen=True)
class EnvRequest:
    """What the user asked of a repository's environment (the CLI's options; saved with a run)."""

    python: str | None = None            # --python X.Y (default: what the project declares)
    deps: tuple[str, ...] = ()           # --deps: extra requirement strings, added or pinning
    image: str | None = None             # --image: a Docker image holding the Python to use
    allow_external: bool = False         # --allow-external-deps: requirements outside the index


@dataclass(frozen=True)
class Runtime:
    """A Python ready for one backend family: what a sandbox needs to run it."""

    offer: Offer
    version: str                   # "3.8.18", or "3.11" where only the minor is known
    image: str | None = None       # docker, gvisor: the image holding it (no project deps)
    rootfs: Path | None = None     # bwrap: the root file system
    tree: Path | None = None       # bwrap, a host interpreter: the copy bound at its prefix
    site_in_sandbox: str = ""      # where an environment's dependencies go
    has_runner: bool = True        # pytest and coverage are there without installing them
    identity: str = ""             # what the environment key hashes for the Python

    @property
    def prefix(self) -> str:
        return self.offer.name if self.offer.source == "host" else ""


@dataclass(frozen=True)
class Environment:
    """What a sandbox needs to run one repository's tests."""

    image: str | None              # docker tag: the runtime plus the repo's third-party deps
    site_dir: Path | None          # host dir holding those deps (bwrap binds it at site_in_sandbox)
    key: str                       # hash of the runtime and the dependency set ("" when nothing was built)
    runtime: Runtime
    python_why: str = ""           # why this Python (the project's evidence, or the option)
    requested: tuple[str, ...] = ()
    installed: tuple[str, ...] = ()   # name==version, what the build put into site_dir
    notes: tuple[str, ...] = ()       # what the user should know (compiled parts, metadata that failed)
    pytest_plugins_off: tuple[str, ...] = ()   # installed plugins that cannot load with its pytest (-p no:NAME)
    build_result: ExecResult | None = field(default=None, compare=False)

    @property
    def site_in_sandbox(self) -> str:
        return self.runtime.site_in_sandbox

    @property
    def rootfs(self) -> Path | None:
        return self.runtime.rootfs

    @property
    def path_prefix(self) -> str:
        """An in-sandbox directory that goes first on PATH ("" when the root's python3 is it)."""
        return f"{self.runtime.prefix}/bin" if self.runtime.prefix else ""

    @property
    def binds(self) -> tuple[tuple[Path, str], ...]:
        """(host directory, in-sandbox path) pairs bwrap binds read-only (a host interpreter)."""
        return ((self.runtime.tree, self.runtime.prefix),) if self.runtime.tree else ()

    def summary(self) -> dict:
        rt = self.runtime
        return {"python": rt.version, "python_source": rt.offer.source, "python_from": rt.offer.describe(),
                "python_why": self.python_why, "image": self.image, "site_dir": str(self.site_dir) if self.site_dir else None,
                "key": self.key, "requested": list(self.requested), "installed": list(self.installed),
                "notes": list(self.notes), "pytest_plugins_off": list(self.pytest_plugins_off)}


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


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


# ---------------------------------------------------------------- Debian root file systems

def debian_site(suite: str) -> str:
    """Where a Debian suite's python3 looks first for packages: /usr/local/lib/python3.X/dist-packages
    comes before /usr/lib/python3/dist-packages on its sys.path and its .pth files are read, so
    a repository's pinned deps win over the root's packages without any PYTHONPATH (which the
    audit hook's boot dir uses)."""
    major, minor = SUITES[suite]
    return f"/usr/local/lib/python{major}.{minor}/dist-packages"


SITE_IN_SANDBOX = debian_site(DEFAULT_SUITE)


def rootfs_path(suite: str = DEFAULT_SUITE) -> Path:
    return cache_dir() / "rootfs" / f"{suite}-{ROOTFS_VERSION}"


def base_rootfs(suite: str = DEFAULT_SUITE) -> Path:
    """A debootstrap'ed root of `suite` with python3, pytest and coverage; built once, cached.

    Built into a temporary directory and renamed into place, so a half-built root (a crash, a
    Ctrl-C) is never mistaken for a finished one.
    """
    if suite not in SUITES:
        raise ImageError(f"unknown Debian suite {suite!r} (known: {', '.join(SUITES)})")
    final = rootfs_path(suite)
    if (final / "usr/bin/python3").exists():
        return final
    if not shutil.which("debootstrap"):
        raise ImageError("debootstrap is not installed (run `ouro sandbox setup`, or apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise ImageError(f"building the {suite} root file system needs root (debootstrap); run `ouro sandbox setup` as root")
    with _locked(f"rootfs-{suite}"):
        if (final / "usr/bin/python3").exists():  # another process built it while we waited
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
        try:
            proc = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}", suite, str(tmp)],
                capture_output=True, text=True)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                raise ImageError(f"debootstrap {suite} failed (exit {proc.returncode}): {' | '.join(tail)}")
            _add_sandbox_user(tmp, suite)
            # apt's package cache is dead weight in every image
            shutil.rmtree(tmp / "var/cache/apt/archives", ignore_errors=True)
            (tmp / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


def usable_suites(backend: str, client=None) -> dict[str, str]:
    """{suite: how} for the Debian suites a sandbox of `backend` can have here: "built" (a root
    file system, or on docker and gvisor an `ouro-base:<suite>` image, exists), "buildable"
    (debootstrap is installed, ouro runs as root and Debian's mirror answers within 2 s), and
    always the default suite, which every other source needs as well (a failure to build it
    is its own one-line error). Suites that can be neither are not offered."""
    from ouro.sandbox.pythons import DEBIAN_MIRROR, reachable

    out: dict[str, str] = {DEFAULT_SUITE: "default"}
    mirror: list[bool] = []
    for suite in SUITES:
        if (rootfs_path(suite) / "usr/bin/python3").exists():
            out[suite] = "built"
            continue
        if backend != "bwrap" and client is not None:
            try:
                if image_exists(client, base_image_tag(suite)):
                    out[suite] = "built"
                    continue
            except Exception:   # the daemon went away: the suite is judged by what can be built
                pass
        if suite in out or not shutil.which("debootstrap") or os.geteuid() != 0:
            continue
        if not mirror:
            mirror.append(reachable(DEBIAN_MIRROR)[0])
        if mirror[0]:
            out[suite] = "buildable"
    return out


def _add_sandbox_user(root: Path, suite: str) -> None:
    """Give uid 10001 a name and a writable home (/tmp), so getpass/HOME-using tools work, and
    make the mount points bwrap binds onto (it cannot create them in a read-only root)."""
    passwd = root / "etc/passwd"
    if f":{SANDBOX_UID}:" not in passwd.read_text():
        with open(passwd, "a") as f:
            f.write(f"ouro:x:{SANDBOX_UID}:{SANDBOX_UID}:ouro sandbox:/tmp:/bin/sh\n")
        with open(root / "etc/group", "a") as f:
            f.write(f"ouro:x:{SANDBOX_UID}:\n")
    for d in ("workspace", "opt/ouro/guest", debian_site(suite).lstrip("/")):
        (root / d).mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------- Docker images

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


def base_image_tag(suite: str = DEFAULT_SUITE) -> str:
    return f"ouro-base:{suite}"


def _image_once(client, tag: str, build) -> str:
    """`tag`, made by build() when it does not exist; concurrent ouro processes build it once."""
    if not image_exists(client, tag):
        with _locked("image-" + tag.replace(":", "-").replace("/", "-")):
            if not image_exists(client, tag):   # another process may have built it while we waited
                build()
    return tag


def ensure_base_image(client=None, suite: str = DEFAULT_SUITE) -> str:
    """The Docker image `ouro-base:<suite>`, imported from base_rootfs(suite) when missing."""
    client = client or docker_client()
    tag = base_image_tag(suite)

    def build():
        root = base_rootfs(suite)
        # `tar | docker import` streams the root without a temporary archive on disk.
        changes = ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "ENV LANG=C.UTF-8", "ENV HOME=/tmp", "WORKDIR /workspace"]
        cmd = ["docker", "import"]
        for c in changes:
            cmd += ["--change", c]
        cmd += ["-", tag]
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(cmd, stdin=tar.stdout, capture_output=True, text=True)
        tar.stdout.close()
        tar.wait()
        if tar.returncode != 0 or imp.returncode != 0:
            raise ImageError(f"docker import of {root} failed: {imp.stderr.strip()[:300]}")

    return _image_once(client, tag, build)


def _build_image(client, tag: str, dockerfile: str, trees: dict[str, Path]) -> None:
    """`docker build` of `dockerfile` with `trees` (name in the context -> host directory) as its
    context, streamed from a temporary archive on disk (a runtime or a site can be gigabytes),
    with no network: everything it needs is in the context."""
    import docker

    with tempfile.TemporaryFile() as ctx:
        with tarfile.open(fileobj=ctx, mode="w") as tar:
            data = dockerfile.encode()
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(data)
            tar.addfile(info, fileobj=io.BytesIO(data))
            for name, path in trees.items():
                tar.add(path, arcname=name, filter=_readable)
        ctx.seek(0)
        try:
            client.images.build(fileobj=ctx, custom_context=True, tag=tag, rm=True, forcerm=True, network_mode="none")
        except docker.errors.BuildError as e:
            raise ImageError(f"building {tag} failed: {e}") from None
        except docker.errors.APIError as e:
            raise ImageError(f"building {tag} failed: {e.explanation or e}") from None


def _readable(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # The sandbox uid must read the deps; root-owned 0644/0755 files are what pip writes.
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode |= 0o444 | (0o111 if info.isdir() else 0)
    return info


# ---------------------------------------------------------------- Python runtimes

_PROBE = ("import json, sys, sysconfig, importlib.util as u; print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3], "
          "'site': sysconfig.get_paths()['purelib'], 'runner': all(u.find_spec(m) for m in ('pytest', 'coverage'))}))")


def probe_image(client, image: str) -> dict:
    """The Python in `image`: version, site directory, whether pytest and coverage are there."""
    import docker

    try:
        image_id = client.images.get(image).id   # first: a missing image must not start a pull
        out = client.containers.run(image, ["python3", "-c", _PROBE], remove=True, network_mode="none",
                                    user=f"{SANDBOX_UID}:{SANDBOX_UID}", entrypoint=[], read_only=True, cap_drop=["ALL"],
                                    security_opt=["no-new-privileges"], labels={LABEL: "1", "ouro.owner_pid": str(os.getpid()), "ouro.purpose": "probe"})
        doc = json.loads(out.decode().strip().splitlines()[-1])
        return {"version": str(doc["version"]), "site": str(doc["site"]), "runner": bool(doc["runner"]), "id": image_id}
    except docker.errors.ImageNotFound:
        raise ImageError(f"image {image!r} not found (docker pull or docker load it first)") from None
    except (docker.errors.ContainerError, docker.errors.APIError, ValueError, KeyError, IndexError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ImageError(f"image {image!r} has no usable python3: {first[:200]}") from None


def image_offer(client, image: str) -> Offer:
    """An offer for the image the user named, with the version its python3 reports."""
    from ouro.sandbox.project import version_tuple

    info = probe_image(client, image)
    return Offer("image", version_tuple(info["version"]) or (0, 0), image, info["version"])


def pull_official(client, tag: str) -> None:
    if image_exists(client, tag):
        return
    repo, _, version = tag.partition(":")
    try:
        client.images.pull(repo, tag=version)
    except Exception as e:  # the registry went away between the probe and the pull
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ImageError(f"cannot pull {tag}: {first[:200]}") from None


def _interpreter_fingerprint(offer: Offer) -> str:
    """Changes when the interpreter is rebuilt in place (pyenv install -f)."""
    v = ".".join(map(str, offer.version))
    parts = []
    for rel in (f"bin/python{v}", f"lib/libpython{v}.so.1.0", f"lib/libpython{v}m.so.1.0"):
        try:
            st = os.stat(Path(offer.name) / rel)
            parts.append(f"{rel}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            continue
    return hashlib.sha256(f"{offer.name}\0{offer.full}\0{parts}".encode()).hexdigest()[:12]


def host_tree_path(offer: Offer) -> Path:
    return cache_dir() / "pythons" / f"{Path(offer.name).name}-{_interpreter_fingerprint(offer)}"


def host_tree(offer: Offer) -> Path:
    """A copy (hard links where the file system allows) of a host interpreter without its
    site-packages (but pip), its standard library's tests and its static library; cached."""
    final = host_tree_path(offer)
    fp = final.name.rsplit("-", 1)[-1]
    if (final / ".ouro-complete").exists():
        return final
    with _locked(f"python-{fp}"):
        if (final / ".ouro-complete").exists():
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
        try:
            tree = tmp / "tree"
            if subprocess.run(["cp", "-al", offer.name, str(tree)], capture_output=True).returncode != 0:
                shutil.rmtree(tree, ignore_errors=True)
                subprocess.run(["cp", "-a", offer.name, str(tree)], check=True, capture_output=True)
            v = ".".join(map(str, offer.version))
            site = tree / f"lib/python{v}/site-packages"
            for entry in (site.iterdir() if site.is_dir() else []):
                if not (entry.name == "pip" or (entry.name.startswith("pip-") and entry.name.endswith(".dist-info"))):
                    shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
            for rel in _PRUNE:
                p = tree / rel.format(v=v)
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
            os.chmod(tree, 0o755)
            (tree / ".ouro-complete").write_text(offer.full + "\n")
            shutil.rmtree(final, ignore_errors=True)
            os.rename(tree, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def ensure_python_image(client, offer: Offer, tree: Path, tag: str | None = None) -> str:
    """`ouro-python:<version>-<hash>` (or `tag`): the bookworm base with a host interpreter at
    its own prefix (its libpython is found by an absolute run path), the prefix's parents made
    traversable for the sandbox uid (a root home is not)."""
    tag = tag or f"{PYTHON_IMAGE_REPO}:{offer.full}-{tree.name.rsplit('-', 1)[-1]}"
    prefix = Path(offer.name)
    parents = " ".join(str(p) for p in reversed(prefix.parents) if str(p) != "/")
    dockerfile = (f"FROM {ensure_base_image(client)}\n"
                  f"COPY python/ {prefix}/\n"
                  f"RUN chmod o+x {parents}\n"
                  f'LABEL ouro.python="{offer.full}" ouro.python.from="{offer.manager}:{prefix}"\n')
    return _image_once(client, tag, lambda: _build_image(client, tag, dockerfile, {"python": tree}))


def prepare_runtime(offer: Offer, backend: str, client=None) -> Runtime:
    """Build what `offer` needs on `backend` (a root file system, an image) and describe it."""
    from ouro.sandbox.pythons import check_backend

    check_backend(offer.source, backend)
    bwrap = backend == "bwrap"
    if offer.source == "debian":
        suite = offer.name
        where = dict(rootfs=base_rootfs(suite)) if bwrap else dict(image=ensure_base_image(client or docker_client(), suite))
        return Runtime(offer, ".".join(map(str, offer.version)), site_in_sandbox=debian_site(suite), has_runner=True,
                       identity=f"debian:{suite}:{ROOTFS_VERSION}", **where)
    if offer.source == "host":
        tree = host_tree(offer)
        v = ".".join(map(str, offer.version))
        where = (dict(rootfs=base_rootfs(DEFAULT_SUITE), tree=tree) if bwrap
                 else dict(image=ensure_python_image(client or docker_client(), offer, tree)))
        return Runtime(offer, offer.full, site_in_sandbox=f"{offer.name}/lib/python{v}/site-packages", has_runner=False,
                       identity=f"host:{offer.name}:{tree.name}:{ROOTFS_VERSION}", **where)
    client = client or docker_client()
    if offer.source == "registry":
        pull_official(client, offer.name)
    info = probe_image(client, offer.name)
    return Runtime(offer, info["version"], image=offer.name, site_in_sandbox=info["site"], has_runner=info["runner"],
                   identity=f"image:{info['id']}")


# ---------------------------------------------------------------- per-repository environments

def choose_runtime(repo: Path, request: EnvRequest, backend: str, client=None):
    """(the project's spec, the chosen Offer, why): the one place that decides which Python a
    repository's sandbox gets."""
    from ouro.sandbox import pythons
    from ouro.sandbox.project import read_project, version_text

    spec = read_project(repo, python=request.python, deps=request.deps, allow_external=request.allow_external)
    if request.image:
        pythons.check_backend("image", backend)
        offer = image_offer(client or docker_client(), request.image)
        why = f"--image {request.image}"
        if spec.python.exact and spec.python.exact != offer.version:
            why += f" (the project asks for {version_text(spec.python.exact)})"
        return spec, offer, why
    local: set[str] = set()
    registry = False
    if backend in pythons.CONTAINER_BACKENDS:
        client = client or docker_client()
        local = {t for img in client.images.list(name="python") for t in img.tags}
        registry = pythons.registry_reachable()[0]
    suites = usable_suites(backend, client)
    offer, why = pythons.choose(spec.python, pythons.offers(backend, local_images=local, registry=registry,
                                                            suites=tuple(suites)))
    return spec, offer, why


def ensure_env(repo: Path, request: EnvRequest | None = None, *, backend: str = "docker", policy=None,
               client=None) -> Environment:
    """The environment for a repository: the Python it needs and its third-party dependencies,
    installed inside a build sandbox of `backend` (docker and gvisor build in a runc container;
    bwrap in bwrap). Cached by the runtime and the dependency set: a second call costs reading
    the project's files and one image lookup. Raises ImageError, BadInput (a broken dependency
    file, no Python that fits), ExternalDependency or BuildRefused (exit 2), BuildFailed."""
    from ouro.sandbox import envbuild

    repo = Path(repo)
    if not repo.is_dir():
        raise ImageError(f"{repo}: not a directory")
    request = request or EnvRequest()
    backend = backend if backend in ("docker", "gvisor", "bwrap") else "docker"
    if backend != "bwrap":
        client = client or docker_client()
    spec, offer, why = choose_runtime(repo, request, backend, client)
    runtime = prepare_runtime(offer, backend, client)
    plan = envbuild.plan_for(spec.deps, offer.version, runtime.has_runner, request.allow_external, spec.python)
    notes = [f"the repository has compiled parts ({spec.deps.compiled}); they are not built: its own package "
             "is never installed, so tests that import them fail"] if spec.deps.compiled else []
    notes += list(spec.deps.notes)
    bare = Environment(image=runtime.image, site_dir=None, key="", runtime=runtime, python_why=why,
                       notes=tuple(notes))
    if plan.empty:
        return bare
    key = hashlib.sha256(json.dumps([_env_recipe(), runtime.identity, spec.deps.fingerprint, plan.requested(),
                                     plan.allow_external]).encode()).hexdigest()[:16]
    site = cache_dir() / "sites" / key
    manifest = site.with_suffix(".json")
    with _locked(f"env-{key}"):
        if not manifest.exists():
            from ouro.sandbox.policy import load_policy

            tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=_mkdir(site.parent)))
            try:
                out = envbuild.build_site(repo, plan, bare, backend, policy or load_policy(), tmp / "site")
                shutil.rmtree(site, ignore_errors=True)
                os.rename(tmp / "site", site)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            from ouro.sandbox.core.files import atomic_write_json

            atomic_write_json(manifest, {"installed": list(out.installed), "notes": list(out.notes),
                                         "requested": plan.requested(), "python": runtime.version,
                                         "pytest_plugins_off": list(out.pytest_plugins_off)})
            build_result = out.result
        else:
            build_result = None
        done = json.loads(manifest.read_text())
        image = None
        if backend != "bwrap":
            image = f"{ENV_IMAGE_REPO}:{key}"
            dockerfile = f'FROM {runtime.image}\nCOPY site/ {runtime.site_in_sandbox}/\nLABEL ouro.env="{key}"\n'
            _image_once(client, image, lambda: _build_image(client, image, dockerfile, {"site": site}))
    return Environment(image=image, site_dir=site, key=key, runtime=runtime, python_why=why,
                       requested=tuple(done.get("requested", [])), installed=tuple(done.get("installed", [])),
                       notes=tuple(notes) + tuple(done.get("notes", [])), build_result=build_result,
                       pytest_plugins_off=tuple(done.get("pytest_plugins_off", [])))

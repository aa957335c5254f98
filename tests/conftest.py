"""Shared fixtures for tests that need real sandboxes.

Tests that need Docker, gVisor or bubblewrap skip where those are absent (a laptop without
Docker), but CI sets OURO_REQUIRE_SANDBOX=1 (see .ci/run): there a missing daemon, runtime
or base image FAILS the test instead, so the sandbox tests cannot silently not run.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

REQUIRE = os.environ.get("OURO_REQUIRE_SANDBOX") == "1"


@pytest.fixture(autouse=True, scope="session")
def _audit_anchors_in_a_temp_dir(tmp_path_factory):
    """Audit logs anchor their length outside .ouro (sandbox.audit.log): in tests, not in the
    user's ~/.local/state. Subprocesses inherit it through the environment."""
    old = os.environ.get("OURO_AUDIT_ANCHOR_DIR")
    os.environ["OURO_AUDIT_ANCHOR_DIR"] = str(tmp_path_factory.mktemp("audit-anchors"))
    yield
    if old is None:
        os.environ.pop("OURO_AUDIT_ANCHOR_DIR", None)
    else:
        os.environ["OURO_AUDIT_ANCHOR_DIR"] = old


def _unavailable(why: str):
    if REQUIRE:
        pytest.fail(f"{why} (OURO_REQUIRE_SANDBOX=1: run `ouro sandbox setup` as root)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def docker_available() -> bool:
    """The Docker daemon answers (skip, or fail under OURO_REQUIRE_SANDBOX=1, otherwise)."""
    from ouro.sandbox.daemon import daemon_info

    info = daemon_info()
    if not info.running:
        _unavailable(f"Docker daemon not available: {info.error}")
    return True


@pytest.fixture(scope="session")
def docker_client(docker_available):
    from ouro.sandbox.images import docker_client as make

    return make()


@pytest.fixture(scope="session")
def base_image(docker_client) -> str:
    """The `ouro-base:bookworm` image (built once from Debian packages when missing)."""
    from ouro.sandbox import images

    try:
        return images.ensure_base_image(docker_client)
    except images.ImageError as e:
        _unavailable(f"base image cannot be built: {e}")


@pytest.fixture(scope="session")
def runsc_available(docker_client) -> bool:
    """gVisor's runsc runtime is registered with the daemon."""
    if "runsc" not in (docker_client.info().get("Runtimes") or {}):
        _unavailable("the runsc (gVisor) runtime is not registered with Docker")
    return True


@pytest.fixture(scope="session")
def bwrap_available() -> str:
    path = shutil.which("bwrap")
    if not path:
        _unavailable("bubblewrap (bwrap) is not installed")
    # Bind only /usr (and the merged-usr links), not /: a recursive bind of / races with the
    # overlay mounts Docker creates and removes for other containers and fails at random.
    probe = subprocess.run([path, "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64",
                            "/lib64", "--symlink", "usr/bin", "/bin", "--unshare-all", "--", "/usr/bin/true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        _unavailable(f"bwrap cannot create namespaces here: {probe.stderr.strip()[:200]}")
    return path


@pytest.fixture(scope="session")
def bwrap_ready(bwrap_available) -> str:
    """bwrap works here and the Debian root file system it uses as / exists (built once)."""
    from ouro.sandbox.bwrap_backend import bwrap_available as why_not
    from ouro.sandbox.images import ImageError, base_rootfs

    why = why_not()
    if why:
        _unavailable(why)
    try:
        base_rootfs()
    except ImageError as e:
        _unavailable(f"the bwrap root file system cannot be built: {e}")
    return bwrap_available


@pytest.fixture(scope="session")
def bwrap_spec(bwrap_ready):
    """How the improver tests sandbox generated code: bwrap, small memory."""
    from ouro.improvers.sandboxed import SandboxSpec

    return SandboxSpec(backend="bwrap", memory_mb=256)


@pytest.fixture(params=["docker", "gvisor"])
def container_backend(request, base_image) -> str:
    """Parametrizes a test over the two container backends (runc and gVisor)."""
    if request.param == "gvisor":
        request.getfixturevalue("runsc_available")
    return request.param


@pytest.fixture
def labelled_containers(docker_client):
    """A function listing ouro's labelled containers created by THIS process (other engineers'
    and other test runs' containers are not ours to judge)."""
    from ouro.sandbox.base import LABEL

    def ours() -> list[str]:
        return [c["Id"] for c in docker_client.api.containers(
            all=True, filters={"label": [LABEL, f"ouro.owner_pid={os.getpid()}"]})]

    return ours

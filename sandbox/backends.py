"""Pick and open a sandbox backend by name. One interface (sandbox.base.Sandbox), four backends."""
from __future__ import annotations

from pathlib import Path

from ouro.sandbox.base import Sandbox
from ouro.sandbox.policy import SandboxPolicy


def open_sandbox(
    policy: SandboxPolicy,
    *,
    workspace: Path | None = None,
    image: str | None = None,
    labels: dict[str, str] | None = None,
    unsafe_local: bool = False,
    audit: bool = True,
    site_dir: Path | None = None,
    home: Path | None = None,
) -> Sandbox:
    """Start a sandbox of `policy.backend`, with a copy of `workspace` (a host directory) in it.

    image: the environment image (docker/gvisor) or root file system (bwrap) to use; default
    `policy.image`. labels: extra labels (run id, purpose) attached for `ouro sandbox ps`.
    unsafe_local must be True for the `local` backend, which isolates nothing.
    audit: install the in-sandbox audit hook (sandbox.audit) for Python processes.
    site_dir: bwrap only: the environment's host site dir (sandbox.images.Environment.site_dir).
    home: local only: the ouro home whose audit log records the unsafe use (default OURO_HOME or ./.ouro).
    """
    backend = policy.backend
    if backend in ("docker", "gvisor"):
        from ouro.sandbox.docker_backend import DockerSandbox

        return DockerSandbox.start(policy, workspace=workspace, image=image, labels=labels,
                                   runtime="runsc" if backend == "gvisor" else None, audit=audit)
    if backend == "bwrap":
        from ouro.sandbox.bwrap_backend import BwrapSandbox

        return BwrapSandbox.start(policy, workspace=workspace, image=image, labels=labels, audit=audit,
                                  site_dir=site_dir)
    if backend == "local":
        from ouro.sandbox.local_backend import LocalSandbox

        return LocalSandbox.start(policy, workspace=workspace, labels=labels, unsafe_local=unsafe_local, audit=audit,
                                  home=home)
    raise ValueError(f"unknown backend {backend!r}")

"""Open a sandbox for a purpose: the one place that picks the backend and the environment.

    with open_sandbox(policy, "repair", workspace=repo_copy, labels={"ouro.run": run_id}) as sb:
        sb.exec(["python3", "-m", "pytest"])

A purpose says what the sandbox is for, and so what it needs: a repository's sandbox
(`repair`, `judge`, `run` with a workspace) gets that repository's environment, the Python it
needs and its third-party dependencies (sandbox.images.ensure_env: an environment image on
docker/gvisor, a root, an interpreter and a site directory bound read-only on bwrap), as the
request (`images.EnvRequest`: --python, --deps, --image, --allow-external-deps) and the
project's own files say; an improver's or the self-test's sandbox gets the base image only.
No purpose has a network. `envbuild`, the build step that installs an environment's
dependencies (sandbox.envbuild, given the bare runtime it builds for), reaches the package index
only through a host proxy's UNIX socket bound into it (sandbox.netproxy). Every sandbox is
labelled with its purpose, so `ouro sandbox ps` says what each container is doing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ouro.sandbox.base import Sandbox, SandboxError
from ouro.sandbox.core.errors import OuroError
from ouro.sandbox.policy import SandboxPolicy


@dataclass(frozen=True)
class Purpose:
    name: str
    repository: bool     # the workspace is a repository: install its third-party dependencies
    audit: bool          # the in-sandbox audit hook, unless the caller says otherwise
    host_socket: bool = False  # reaches a host UNIX socket (the build's index proxy): runc, not gVisor


PURPOSES = {p.name: p for p in (
    Purpose("repair", repository=True, audit=True),       # reproduce, validate candidates
    Purpose("judge", repository=True, audit=False),       # hidden tests on a finished patch
    Purpose("run", repository=True, audit=True),          # `ouro sandbox run`
    Purpose("improver", repository=False, audit=True),    # generated improvers and programs
    Purpose("selftest", repository=False, audit=True),    # the red-team corpus
    Purpose("doctor", repository=False, audit=False),     # `ouro sandbox doctor`'s probes
    Purpose("bench", repository=True, audit=True),        # benchmark scripts
    # pip building the dependencies: containment is the sandbox (pip starts its build backends
    # with a PYTHONPATH of its own, so an in-process hook would see only part of it)
    Purpose("envbuild", repository=False, audit=False, host_socket=True),
)}


def open_sandbox(
    policy: SandboxPolicy,
    purpose: str,
    *,
    workspace: Path | None = None,
    labels: dict[str, str] | None = None,
    unsafe_local: bool = False,
    audit: bool | None = None,
    home: Path | None = None,
    request=None,
    environment=None,
) -> Sandbox:
    """Start a sandbox of `policy.backend` for `purpose`, with a copy of `workspace` in it.

    labels: extra labels (run id, task) for `ouro sandbox ps`. unsafe_local must be True for
    the `local` backend, which isolates nothing. audit: install the in-sandbox hook (default:
    the purpose's). home: local only: the ouro home whose audit log records the unsafe use.
    request: what the user asked of a repository's environment (images.EnvRequest); environment:
    an images.Environment to use as it is (the build step's bare runtime) instead.
    Raises SandboxError (exit 3, or 2 for a refused local backend) with one line.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown sandbox purpose {purpose!r} (known: {', '.join(PURPOSES)})")
    why = PURPOSES[purpose]
    audit = why.audit if audit is None else audit
    labels = {"ouro.purpose": purpose, **(labels or {})}
    backend = policy.backend
    env = environment
    if env is None and why.repository and workspace is not None and backend in ("docker", "gvisor", "bwrap"):
        env = repository_environment(Path(workspace), request, backend, policy)
    try:
        if backend in ("docker", "gvisor"):
            from ouro.sandbox.docker_backend import DockerSandbox

            # gVisor's gofer does not connect to a host UNIX socket (without --host-uds, which
            # ouro does not register), so the build, which needs its proxy's, runs under runc
            runtime = "runsc" if backend == "gvisor" and not why.host_socket else None
            return DockerSandbox.start(policy, workspace=workspace, labels=labels, runtime=runtime, audit=audit,
                                       env=env)
        if backend == "bwrap":
            from ouro.sandbox.bwrap_backend import BwrapSandbox

            return BwrapSandbox.start(policy, workspace=workspace, labels=labels, audit=audit, env=env)
        if backend == "local":
            from ouro.sandbox.local_backend import LocalSandbox

            return LocalSandbox.start(policy, workspace=workspace, labels=labels, unsafe_local=unsafe_local,
                                      audit=audit, home=home)
    except OuroError:   # a SandboxError, or the daemon missing (exit 3, naming `ouro sandbox setup`)
        raise
    except Exception as e:  # the docker SDK's own errors, a missing binary: one line, exit 3
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise SandboxError(f"cannot start the {backend} sandbox: {first[:300]}") from None
    raise ValueError(f"unknown backend {backend!r}")


def repository_environment(repo: Path, request=None, backend: str = "docker", policy: SandboxPolicy | None = None):
    """The sandbox environment (images.Environment) for `repo`: the Python it needs and its
    third-party dependencies, as `request` (images.EnvRequest) and the project's files say."""
    from ouro.sandbox.images import ImageError, ensure_env

    try:
        return ensure_env(repo, request, backend=backend, policy=policy)
    except ImageError as e:
        raise SandboxError(f"cannot prepare the sandbox environment: {e}") from None

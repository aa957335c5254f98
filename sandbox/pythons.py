"""Where a sandbox's Python comes from, and which one a project gets.

Sources, tried in this order for the version a project needs (`ouro sandbox doctor` lists them):
1. `image`: an image the user names (`--image`), whatever Python it holds (docker, gvisor);
2. `registry`: the official `python:X.Y-slim`, present locally or pulled when a registry is
   reachable (docker, gvisor); the reachability probe gives up within seconds;
3. `debian`: a Debian suite that ships that version as its python3, bootstrapped offline like
   the base root file system (`bullseye` 3.9, `bookworm` 3.11, `trixie` 3.13; older suites
   live in Debian's archive, which debootstrap's default mirror does not serve);
4. `host`: an interpreter already on this machine (pyenv, uv or asdf prefixes), brought into
   the sandbox read-only at its own path over the bookworm root, whose libraries it links
   (pyenv builds link their own libpython by an absolute run path, so the path must not move).

The guest code (test runner, recorder, warm worker, audit hook) runs on Python 3.7 and newer
(tested on 3.7 to 3.13), so older versions are refused with one line. On 3.7 the audit hook
cannot be installed (`sys.addaudithook` is 3.8+): the runs still happen, every process says so
with an `audit_error` record ("no audit hooks before Python 3.8"), and what the host sees from
outside (limits, exit status, the static scan) still holds.
"""
from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from ouro.sandbox.base import SandboxError
from ouro.sandbox.core.errors import BadInput
from ouro.sandbox.project import PythonNeed, version_text

SOURCES = ("image", "registry", "debian", "host")
# Debian suites whose python3 is the given version, in the order they are offered.
SUITES = {"bookworm": (3, 11), "bullseye": (3, 9), "trixie": (3, 13)}
DEFAULT_SUITE = "bookworm"
DEFAULT = SUITES[DEFAULT_SUITE]
GUEST_MIN = (3, 7)
# official images tagged python:X.Y-slim that the guest can run on
REGISTRY_VERSIONS = tuple((3, m) for m in range(7, 14))
REGISTRY = ("registry-1.docker.io", 443)
CONTAINER_BACKENDS = ("docker", "gvisor")


class NoPython(BadInput):
    """No source offers a Python the project can run on (exit 2: say --python or --image)."""


@dataclass(frozen=True)
class Offer:
    """A Python one source can provide, before anything is built."""

    source: str                 # image | registry | debian | host
    version: tuple[int, int]
    name: str                   # the image, the Debian suite, or the interpreter's prefix
    full: str = ""              # the full version where known ("3.8.18")
    manager: str = ""           # host: pyenv | uv | asdf

    def describe(self) -> str:
        v = self.full or version_text(self.version)
        if self.source == "debian":
            return f"Python {v} from Debian {self.name}"
        if self.source == "host":
            return f"Python {v} from the host's {self.manager} ({self.name})"
        return f"Python {v} from image {self.name}"


def _discover(base: Path, pattern: str, manager: str) -> list[Offer]:
    out = []
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return out
    for entry in entries:
        m = re.fullmatch(pattern, entry)
        if not m:
            continue
        major, minor, patch = (int(x) for x in m.groups())
        exe = base / entry / "bin" / f"python{major}.{minor}"
        if os.access(exe, os.X_OK):
            out.append(Offer("host", (major, minor), str(base / entry), f"{major}.{minor}.{patch}", manager))
    return out


def host_interpreters(environ=None) -> list[Offer]:
    """Interpreters installed by pyenv, uv or asdf, the newest patch release of each version."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or Path.home())
    found = _discover(Path(env.get("PYENV_ROOT") or home / ".pyenv") / "versions", r"(\d+)\.(\d+)\.(\d+)", "pyenv")
    found += _discover(Path(env.get("UV_PYTHON_INSTALL_DIR") or home / ".local/share/uv/python"),
                       r"cpython-(\d+)\.(\d+)\.(\d+)-linux-x86_64-gnu", "uv")
    found += _discover(Path(env.get("ASDF_DATA_DIR") or home / ".asdf") / "installs" / "python",
                       r"(\d+)\.(\d+)\.(\d+)", "asdf")
    best: dict[tuple[int, int], Offer] = {}
    for o in found:
        key = o.version
        if key not in best or _patch(o) > _patch(best[key]):
            best[key] = o
    return [best[v] for v in sorted(best)]


def _patch(o: Offer) -> int:
    return int(o.full.rsplit(".", 1)[-1]) if o.full else 0


def registry_reachable(timeout: float = 2.0) -> tuple[bool, str]:
    """(reachable, why) for Docker's default registry, decided within `timeout` seconds: name
    resolution has no timeout of its own, so it runs in a thread that is left behind if slow."""
    result: list = []

    def probe():
        try:
            with socket.create_connection(REGISTRY, timeout=timeout):
                result.append((True, f"{REGISTRY[0]} answers"))
        except OSError as e:
            result.append((False, f"{REGISTRY[0]}: {e.strerror or e}"))

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)
    return result[0] if result else (False, f"{REGISTRY[0]}: no answer within {timeout:g} s")


def offers(backend: str, *, local_images: set[str] = frozenset(), registry: bool = False,
           environ=None) -> list[Offer]:
    """What every source can provide for `backend`, in the order sources are tried.
    local_images: python:X.Y-slim tags present in the daemon; registry: whether one is reachable
    (so any python:X.Y-slim can be pulled)."""
    out: list[Offer] = []
    if backend in CONTAINER_BACKENDS:
        for v in REGISTRY_VERSIONS:
            tag = f"python:{version_text(v)}-slim"
            if registry or tag in local_images:
                out.append(Offer("registry", v, tag))
    out += [Offer("debian", v, suite) for suite, v in SUITES.items()]
    out += host_interpreters(environ)
    return out


def choose(need: PythonNeed, available: list[Offer]) -> tuple[Offer, str]:
    """The offer for the version `need` asks for, and why that version (one line).

    Named exactly (--python, [tool.ouro], .python-version): that version. Otherwise among the
    versions the project says it is tested on and `requires-python` admits: the default
    (bookworm's, already built) when it is one of them, else the newest one available; when the
    project names only versions no source has, the nearest newer one. With no list, the
    default if `requires-python` admits it, else the newest it admits.
    """
    usable = [o for o in available if o.version >= GUEST_MIN]
    versions = sorted({o.version for o in usable})
    why = "; ".join(need.evidence) or "nothing in the project names a version: the default"
    if need.exact:
        want = need.exact
    else:
        admitted = [v for v in versions if need.allows(v)]
        tested = [v for v in need.tested if need.allows(v)]
        have = [v for v in tested if v in versions]
        if have:
            want = DEFAULT if DEFAULT in have else max(have)
        elif tested:
            newer = [v for v in admitted if v > max(tested)]
            want = min(newer) if newer else (max(admitted) if admitted else max(tested))
        elif admitted:
            want = DEFAULT if DEFAULT in admitted else max(admitted)
        else:
            raise NoPython(f"no source has a Python that satisfies requires-python {need.specifier!r} "
                           f"(have {', '.join(map(version_text, versions)) or 'none'}); pass --python or --image")
    if want < GUEST_MIN:
        raise NoPython(f"the project needs Python {version_text(want)} ({why}); ouro's sandbox runs Python "
                       f"{version_text(GUEST_MIN)} or newer: pass --python X.Y to try a newer one")
    for o in usable:
        if o.version == want:
            return o, why
    raise NoPython(f"no source has Python {version_text(want)} ({why}); have "
                   f"{', '.join(map(version_text, versions)) or 'none'}: install it with pyenv or uv, or pass --image")


def check_backend(source: str, backend: str) -> None:
    if source in ("image", "registry") and backend not in CONTAINER_BACKENDS:
        raise SandboxError(f"a Python from an image needs the docker or gvisor backend, not {backend}")

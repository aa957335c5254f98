"""Shared set-up for the improver tests: the sandbox they run generated code in."""
from __future__ import annotations

import pytest

from ouro.improvers.sandboxed import SandboxSpec


def bwrap_spec() -> SandboxSpec:
    """bwrap (fast, real isolation) or a skip that says why it is missing."""
    from ouro.sandbox.bwrap_backend import bwrap_available

    why = bwrap_available()
    if why:
        pytest.skip(why)
    from ouro.sandbox.images import ImageError, base_rootfs

    try:
        base_rootfs()
    except ImageError as e:
        pytest.skip(str(e))
    return SandboxSpec(backend="bwrap", memory_mb=256)

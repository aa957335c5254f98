"""Reaping leftover sandbox containers by label.

Every container ouro starts carries LABEL and `ouro.owner_pid`. Several ouro processes may run
at once, so at start and exit we remove only containers whose owner process is gone (killed,
crashed); `ouro sandbox clean` removes them all.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ouro.sandbox.base import LABEL


@dataclass
class SandboxContainer:
    id: str
    name: str
    status: str
    backend: str
    owner_pid: int | None
    owner_alive: bool
    image: str
    labels: dict[str, str]

    def to_dict(self) -> dict:
        return {"id": self.id[:12], "name": self.name, "status": self.status, "backend": self.backend,
                "owner_pid": self.owner_pid, "owner_alive": self.owner_alive, "image": self.image,
                "labels": {k: v for k, v in self.labels.items() if k.startswith("ouro.")}}


def pid_alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def list_sandboxes(client) -> list[SandboxContainer]:
    out = []
    for c in client.api.containers(all=True, filters={"label": LABEL}):
        labels = c.get("Labels") or {}
        try:
            owner = int(labels.get("ouro.owner_pid", ""))
        except ValueError:
            owner = None
        out.append(SandboxContainer(
            id=c["Id"], name=(c.get("Names") or ["?"])[0].lstrip("/"), status=c.get("Status", ""),
            backend=labels.get("ouro.backend", "?"), owner_pid=owner, owner_alive=pid_alive(owner),
            image=c.get("Image", ""), labels=labels))
    return out


def reap(client, *, everything: bool = False) -> list[str]:
    """Remove labelled containers whose owner is dead (all of them with everything=True)."""
    removed = []
    for sb in list_sandboxes(client):
        if everything or not sb.owner_alive:
            try:
                client.api.remove_container(sb.id, force=True, v=True)
                removed.append(sb.id)
            except Exception:  # removed concurrently by another ouro process
                pass
    return removed

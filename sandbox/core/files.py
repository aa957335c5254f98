"""Small file helpers shared by everything that writes results: writes are atomic."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write via a temp file and rename, so a crash never leaves half a file."""
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """Append one JSON line and flush it to disk: trajectories survive SIGKILL line by line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True, default=str) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read JSON lines, ignoring a torn last line left by a kill."""
    out: list[dict] = []
    path = Path(path)
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def checked_directory(path: str | os.PathLike, what: str = "") -> Path:
    """path (with ~ expanded) when it is an existing directory, else BadInput naming it:
    the one check every command makes of a repository or folder it is given."""
    from ouro.sandbox.core.errors import BadInput

    p = Path(path).expanduser()
    label = f"{what} {p}" if what else str(p)
    if not p.exists():
        raise BadInput(f"{label}: no such directory")
    if not p.is_dir():
        raise BadInput(f"{label}: not a directory")
    return p


class TreeTooLarge(OSError):
    """A tree being copied passed its size or entry cap."""


def copy_untrusted_tree(src: str | os.PathLike, dst: str | os.PathLike, *, max_bytes: int,
                        max_entries: int = 200_000) -> int:
    """Copy a directory that someone else controls (a sandbox wrote it) to `dst`, which must
    not exist yet; returns the bytes copied.

    Never follows a link: directories are walked with lstat, files opened with O_NOFOLLOW and
    O_NONBLOCK (a FIFO in a file's place cannot hang us) and copied only when fstat says they
    are regular files. A symbolic link is recreated only when its target is relative and stays
    inside the tree; devices, sockets, FIFOs and other links are left out. Past `max_bytes` or
    `max_entries` it stops with TreeTooLarge, leaving `dst` for the caller to remove."""
    import stat

    src, dst = Path(src), Path(dst)
    os.mkdir(dst, 0o755)
    total = entries = 0
    stack = [Path(".")]
    while stack:
        rel = stack.pop()
        with os.scandir(src / rel) as it:
            for entry in it:
                entries += 1
                if entries > max_entries:
                    raise TreeTooLarge(f"{src}: more than {max_entries} entries")
                r = rel / entry.name
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    os.mkdir(dst / r, 0o755)
                    stack.append(r)
                elif stat.S_ISLNK(st.st_mode):
                    target = os.readlink(src / r)
                    inside = os.path.normpath(os.path.join(os.path.dirname(r.as_posix()), target))
                    if not os.path.isabs(target) and not inside.startswith(".."):
                        os.symlink(target, dst / r)
                elif stat.S_ISREG(st.st_mode):
                    fd = os.open(src / r, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                    with os.fdopen(fd, "rb") as f:
                        if not stat.S_ISREG(os.fstat(fd).st_mode):
                            continue
                        mode = 0o755 if os.fstat(fd).st_mode & 0o111 else 0o644
                        with open(dst / r, "xb") as out:
                            while chunk := f.read(1 << 20):
                                total += len(chunk)
                                if total > max_bytes:
                                    raise TreeTooLarge(f"{src}: larger than {max_bytes >> 20} MB")
                                out.write(chunk)
                        os.chmod(dst / r, mode)
    return total


# Files a sandbox wrote (reports, coverage, results) are read without trusting them: never
# through a link, never blocking on a FIFO or a device, regular files only, and no more than a
# cap, so a sandbox cannot hang the host, make it read /dev/zero, or redirect it elsewhere.
UNTRUSTED_READ_CAP = 256 << 20


class UntrustedFileError(OSError):
    """A file a sandbox wrote that the host refuses to read; the message says why in one line."""


def read_untrusted(path: str | os.PathLike, max_bytes: int = UNTRUSTED_READ_CAP) -> bytes:
    """Read a file the sandbox controls: O_NOFOLLOW on the last component (resolve the
    directories yourself, inside the sandbox's root), O_NONBLOCK (a FIFO cannot hold the read),
    a regular file only, at most max_bytes. FileNotFoundError when it does not exist."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == 40:  # ELOOP: the last component is a symlink
            raise UntrustedFileError(e.errno, f"{path}: a symlink where a file was expected") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UntrustedFileError(21, f"{path}: not a regular file (mode {stat.filemode(st.st_mode)})")
        if st.st_size > max_bytes:
            raise UntrustedFileError(27, f"{path}: {st.st_size} bytes, over the {max_bytes}-byte cap")
        chunks, total = [], 0
        while True:
            data = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not data:
                break
            chunks.append(data)
            total += len(data)
            if total > max_bytes:
                raise UntrustedFileError(27, f"{path}: grew past the {max_bytes}-byte cap while read")
        return b"".join(chunks)
    finally:
        os.close(fd)

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

    Only directories and regular files are copied: no link of any kind (a symbolic link is
    left out whatever it points at, since a chain of links that each look inside can still
    lead out, and a hard link is copied as the file it is), no device, socket or FIFO. Nothing
    is followed: directories are walked with lstat and entered by a descriptor opened with
    O_NOFOLLOW | O_DIRECTORY, files opened with O_NOFOLLOW | O_NONBLOCK relative to it (a
    FIFO in a file's place cannot hang us; a name swapped for a link after the walk saw a
    directory or file fails to open) and copied only when fstat says they are regular files.
    So the copy holds no link at all, and nothing the host does with it later can be led out
    of it. Past `max_bytes` or `max_entries` it stops with TreeTooLarge, leaving `dst` for the
    caller to remove."""
    import stat

    src, dst = Path(src), Path(dst)
    os.mkdir(dst, 0o755)
    total = entries = 0
    flags_dir = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY
    stack = [(os.open(src, flags_dir), dst)]
    try:
        while stack:
            dir_fd, out_dir = stack.pop()
            try:
                for entry in sorted(os.listdir(dir_fd)):
                    entries += 1
                    if entries > max_entries:
                        raise TreeTooLarge(f"{src}: more than {max_entries} entries")
                    st = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
                    if stat.S_ISDIR(st.st_mode):
                        try:
                            sub = os.open(entry, flags_dir, dir_fd=dir_fd)
                        except OSError:
                            continue   # replaced by something else since the lstat
                        os.mkdir(out_dir / entry, 0o755)
                        stack.append((sub, out_dir / entry))
                    elif stat.S_ISREG(st.st_mode):
                        try:
                            fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
                        except OSError:
                            continue
                        with os.fdopen(fd, "rb") as f:
                            fst = os.fstat(fd)
                            if not stat.S_ISREG(fst.st_mode):
                                continue
                            with open(out_dir / entry, "xb") as out:
                                while chunk := f.read(1 << 20):
                                    total += len(chunk)
                                    if total > max_bytes:
                                        raise TreeTooLarge(f"{src}: larger than {max_bytes >> 20} MB")
                                    out.write(chunk)
                            os.chmod(out_dir / entry, 0o755 if fst.st_mode & 0o111 else 0o644)
                    # links, devices, sockets, FIFOs: left out
            finally:
                os.close(dir_fd)
    finally:
        for fd, _ in stack:
            os.close(fd)
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

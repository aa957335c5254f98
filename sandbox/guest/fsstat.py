"""Disk use of a directory tree (bytes, and entries: inodes), for the warm worker (in the sandbox) and the bwrap backend
(on the host, which imports this file as ouro.sandbox.guest.fsstat): plain stdlib, no ouro."""
import os


def disk_usage(root: str) -> int:
    """Bytes of storage used under root (allocated blocks, so sparse files count as written),
    without following symlinks."""
    total = 0
    stack = [root]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


def tree_entries(root: str, stop=None) -> int:  # no `int | None`: the guest may be Python 3.8
    """Directory entries under root (files, links, directories), not following links: the
    inodes a bound workspace uses, which a byte count misses for empty files. Counting stops
    a little past `stop` when it is given."""
    total, stack = 0, [root]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    total += 1
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                    except OSError:
                        continue
        except OSError:
            continue
        if stop is not None and total > stop:
            break
    return total

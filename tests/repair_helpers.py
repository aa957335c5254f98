"""Small repositories and helpers shared by the repair tests."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path


def tree_digest(path: Path) -> str:
    """Everything in a directory (names, contents, modes): equal digests mean nothing was written."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        st = p.lstat()
        h.update(f"{p.relative_to(path)}:{st.st_mode}:{st.st_size}".encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "u", "GIT_AUTHOR_EMAIL": "u@x", "GIT_COMMITTER_NAME": "u",
                               "GIT_COMMITTER_EMAIL": "u@x", "PATH": "/usr/bin:/bin", "HOME": str(repo)}).stdout


def snapshot(repo: Path) -> dict:
    files = {str(p.relative_to(repo)): p.read_bytes() for p in sorted(repo.rglob("*"))
             if p.is_file() and ".git" not in p.relative_to(repo).parts}
    return {"files": files, "head": git(repo, "rev-parse", "HEAD"), "branch": git(repo, "symbolic-ref", "HEAD"),
            "index": git(repo, "ls-files", "-s"), "staged": git(repo, "diff", "--cached"),
            "status": git(repo, "status", "--porcelain")}


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


BUGGY = {
    "shop/__init__.py": "",
    "shop/pricing.py": ("from shop.util import clamp\n\n\n"
                        "def discount(total, percent):\n"
                        "    percent = clamp(percent, 0, 100)\n"
                        "    return total - total * percent / 100\n\n\n"
                        "def bulk_price(unit, qty):\n"
                        "    if qty > 10:\n"
                        "        return discount(unit * qty, 10)\n"
                        "    return unit * qty\n"),
    "shop/util.py": ("def clamp(x, lo, hi):\n"
                     "    if x < lo:\n"
                     "        return lo\n"
                     "    if x > hi:\n"
                     "        return lo\n"
                     "    return x\n"),
    "tests/test_pricing.py": ("from shop.pricing import bulk_price, discount\n\n\n"
                              "def test_discount():\n    assert discount(200, 25) == 150\n\n\n"
                              "def test_discount_capped():\n    assert discount(80, 150) == 0\n\n\n"
                              "def test_bulk():\n    assert bulk_price(2, 10) == 20\n    assert bulk_price(1, 20) == 18\n"),
}

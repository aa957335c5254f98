"""How long does a repository's sandbox environment take to build, on the default Python and on
a host interpreter? Side by side, in one run.

    python bench/env_build.py [--backend docker] [--python 3.8]

A small project (requirements.txt: attrs and six; a test) gets its environment through
sandbox.images.ensure_env, the call every repair makes:
  default    the Debian bookworm Python 3.11 (its runtime, the base image, already built)
  host       a host interpreter (--python, default 3.8: pyenv, uv or asdf), its runtime already
             prepared (copied tree and, on docker, its ouro-python image)
and, for the record, what preparing that interpreter costs once (host_rt_s: its tree copied
with hard links into a scratch cache and, on docker, an image built from it under a throwaway
tag; the shared cache and images are left alone). Each environment is timed cold (a requirement line nobody built before: the build sandbox resolves and
installs, the site is copied out, the environment image is built) and cached (the same call
again: the project's files read, one image lookup). The build step needs the package index.
Last line: RESULT default_cold_s=... default_cached_s=... host_cold_s=... host_cached_s=... host_rt_s=...
"""
from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def project(root: Path) -> Path:
    root.mkdir(parents=True)
    # a fresh comment makes a dependency set nobody has built: the cold case, every run
    (root / "requirements.txt").write_text(f"# bench {secrets.token_hex(4)}\nattrs\nsix\n")
    (root / "test_it.py").write_text("import attr, six\n\ndef test_it():\n    assert six.PY3\n")
    return root


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def runtime_cost(offer, backend: str) -> float:
    """Seconds to prepare a host interpreter from nothing, without touching the shared cache."""
    import os

    from ouro.sandbox import images

    scratch = Path(tempfile.mkdtemp(prefix="ouro-bench-rt-"))
    old = os.environ.get("OURO_CACHE")
    os.environ["OURO_CACHE"] = str(scratch)
    tag = f"ouro-bench-python:{secrets.token_hex(4)}"
    try:
        t = time.perf_counter()
        tree = images.host_tree(offer)
        if backend != "bwrap":
            if old:
                os.environ["OURO_CACHE"] = old
            else:
                del os.environ["OURO_CACHE"]
            images.ensure_python_image(images.docker_client(), offer, tree, tag=tag)
        return time.perf_counter() - t
    finally:
        if os.environ.get("OURO_CACHE") == str(scratch):
            if old:
                os.environ["OURO_CACHE"] = old
            else:
                del os.environ["OURO_CACHE"]
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", default="docker", choices=["docker", "gvisor", "bwrap"])
    ap.add_argument("--python", default="3.8", help="the host interpreter's version")
    args = ap.parse_args()
    from ouro.sandbox.images import EnvRequest, ensure_env

    work = Path(tempfile.mkdtemp(prefix="ouro-bench-env-"))
    results = {}
    try:
        for name, request in (("default", EnvRequest()), ("host", EnvRequest(python=args.python))):
            repo = project(work / name)
            cold, env = timed(lambda: ensure_env(repo, request, backend=args.backend))
            cached, again = timed(lambda: ensure_env(repo, request, backend=args.backend))
            assert again.key == env.key and again.build_result is None, "the second call rebuilt"
            results[f"{name}_cold_s"], results[f"{name}_cached_s"] = cold, cached
            print(f"{name:8} {env.runtime.offer.describe():58} cold {cold:6.1f} s   cached {cached:5.2f} s   "
                  f"{len(env.installed)} packages", flush=True)
            if name == "host":
                if env.runtime.offer.source != "host":
                    raise SystemExit(f"bench: Python {args.python} came from {env.runtime.offer.source}, not the host")
                results["host_rt_s"] = runtime_cost(env.runtime.offer, args.backend)
                print(f"{'host_rt':8} {'preparing that interpreter once':58} {results['host_rt_s']:6.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("RESULT " + " ".join(f"{k}={v:.2f}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

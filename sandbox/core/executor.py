"""Run independent jobs in parallel: a local process pool (the default) or a Ray cluster.

Both implementations offer the same small interface, so `ouro bench` and the improver
experiments do not care where their jobs run:

    ex = make_executor(workers=2)            # or make_executor(ray="auto")
    try:
        results = ex.map(fn, items, on_result=lambda i, r: save(i, r))
    finally:
        ex.close()

`fn` and `items` must be picklable (a module-level function, dataclasses of plain values).
Results come back in input order. `on_result(index, result)` is called in the calling process
as each job finishes (in completion order), so a caller can persist results one by one and a
killed run loses only the jobs that were in flight. A job that raises makes `map` raise
ExecutorError naming the item; callers that want per-item errors catch them inside `fn`.
"""
from __future__ import annotations

import contextlib

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Protocol

from ouro.sandbox.core.errors import BadInput, OuroError, PreconditionFailed

OnResult = Callable[[int, Any], None] | None


class ExecutorError(OuroError):
    """A job raised or its worker died; the message names which item."""


class Executor(Protocol):
    kind: str
    workers: int

    def map(self, fn: Callable, items: Iterable, on_result: OnResult = None) -> list: ...
    def close(self) -> None: ...


class InlineExecutor:
    """Runs jobs one after another in this process (workers=0): easiest to debug."""

    kind = "inline"
    workers = 1

    def map(self, fn, items, on_result: OnResult = None) -> list:
        out = []
        for i, item in enumerate(items):
            try:
                r = fn(item)
            except Exception as e:  # noqa: BLE001 - re-raised with the item named
                raise ExecutorError(f"job {i} ({_describe(item)}) failed: {type(e).__name__}: {e}") from e
            out.append(r)
            if on_result:
                on_result(i, r)
        return out

    def close(self) -> None:
        pass


class ProcessExecutor:
    """A pool of `workers` processes on this machine.

    Workers start with `forkserver` rather than `fork`: the parent may hold threads (docker
    SDK, Ray, progress bars) and forking a threaded process can deadlock the child.
    """

    kind = "process"

    def __init__(self, workers: int):
        from ouro.sandbox.core.hostenv import no_cwd_on_python_path

        self.workers = workers
        no_cwd_on_python_path()   # the forkserver is `python -c`: the cwd's modules must not shadow the stdlib
        ctx = multiprocessing.get_context("forkserver")
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)

    def map(self, fn, items, on_result: OnResult = None) -> list:
        items = list(items)
        futures = {self._pool.submit(fn, item): i for i, item in enumerate(items)}
        results: list = [None] * len(items)
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=futures.__getitem__):
                    i = futures[fut]
                    try:
                        results[i] = fut.result()
                    except BrokenProcessPool as e:
                        raise ExecutorError(f"a worker process died while running job {i} ({_describe(items[i])})") from e
                    except Exception as e:  # noqa: BLE001
                        raise ExecutorError(f"job {i} ({_describe(items[i])}) failed: {type(e).__name__}: {e}") from e
                    if on_result:
                        on_result(i, results[i])
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
        return results

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _neutral_cwd():
    """Ray puts the driver's working directory first on every worker's sys.path; ouro often runs
    inside a repository it does not trust, whose modules must not shadow a worker's imports.
    ray.init runs from an empty private directory instead."""
    import tempfile

    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="ouro-ray-") as empty:
        os.chdir(empty)
        try:
            yield
        finally:
            os.chdir(here)


class RayExecutor:
    """Jobs as Ray tasks, one CPU each, on a local or remote Ray cluster.

    address: "local" starts a private local cluster with `workers` CPUs; "auto" joins the
    cluster this machine belongs to (RAY_ADDRESS or a running `ray start`) and falls back to a
    local one when there is none; anything else is a cluster address (`ray://host:10001` or
    `host:6379`). Every node needs ouro installed (the same version) because jobs are sent by
    reference to importable functions.
    """

    kind = "ray"

    def __init__(self, address: str, workers: int = 2):
        try:
            import ray
        except ImportError:
            raise PreconditionFailed("--ray needs the Ray package: pip install 'ouro-agent[ray]'") from None
        self._ray = ray
        self._started_here = False
        self.workers = workers
        quiet = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        with _neutral_cwd():
            self._connect(ray, address, workers, quiet)
        self.workers = int(ray.cluster_resources().get("CPU", workers))

    def _connect(self, ray, address: str, workers: int, quiet: dict) -> None:
        if ray.is_initialized():
            pass  # a caller (or a test) already connected us; use that cluster
        elif address == "local":
            self._init_local(quiet)
        elif address == "auto":
            try:
                ray.init(address="auto", **quiet)
                self._started_here = True
            except ConnectionError:
                self._init_local(quiet)
        else:
            _check_reachable(address)
            try:
                ray.init(address=address, **quiet)
                self._started_here = True
            except (ConnectionError, ValueError) as e:
                raise PreconditionFailed(f"cannot reach the Ray cluster at {address}: {e}") from None

    def _init_local(self, quiet: dict) -> None:
        self._ray.init(num_cpus=self.workers, **quiet)
        self._started_here = True

    def map(self, fn, items, on_result: OnResult = None) -> list:
        ray = self._ray
        items = list(items)
        # one generic remote function taking fn as an argument: works for builtins and callables
        # that ray.remote itself refuses, and fn is shipped once per call by reference
        remote_call = ray.remote(num_cpus=1, max_retries=0)(_call)
        refs = {remote_call.remote(fn, item): i for i, item in enumerate(items)}
        results: list = [None] * len(items)
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    i = refs[ref]
                    try:
                        results[i] = ray.get(ref)
                    except Exception as e:  # noqa: BLE001 - RayTaskError wraps the job's exception
                        cause = getattr(e, "cause", None) or e
                        raise ExecutorError(f"job {i} ({_describe(items[i])}) failed: {type(cause).__name__}: {cause}") from e
                    if on_result:
                        on_result(i, results[i])
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        return results

    def close(self) -> None:
        if self._started_here and self._ray.is_initialized():
            self._ray.shutdown()


def make_executor(workers: int = 1, ray: str | None = None) -> Executor:
    """The executor for `--workers N` / `--ray ADDRESS`.

    workers=0 runs jobs inline (no extra process); workers>=1 a process pool of that size. With
    ray set, jobs go to Ray and `workers` sizes a local cluster if one is started.
    """
    if workers < 0:
        raise BadInput(f"--workers must be 0 or more, got {workers}")
    if ray:
        return RayExecutor(ray, workers=max(workers, 1))
    if workers == 0:
        return InlineExecutor()
    return ProcessExecutor(workers)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def _check_reachable(address: str) -> None:
    """Fail in seconds on a wrong address: ray.init itself retries an unreachable one for minutes."""
    import socket

    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise BadInput(f"--ray {address}: expected 'auto', 'local', HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise PreconditionFailed(f"cannot reach the Ray cluster at {address}: {e.strerror or e}") from None


def _call(fn, item):
    return fn(item)


def _describe(item) -> str:
    for attr in ("task_id", "id", "name"):
        v = getattr(item, attr, None)
        if v:
            return str(v)
    text = repr(item)
    return text if len(text) <= 60 else text[:57] + "..."

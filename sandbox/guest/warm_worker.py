"""Warm worker (guest side): `python3 /opt/ouro/guest/warm_worker.py [--no-warmup] [MODULE...]`,
run with cwd = workspace.

Starts once per sandbox, imports pytest (with its built-in plugins) and the third-party
modules the repository imports — found by scanning the workspace's imports and keeping
those that resolve OUTSIDE the workspace, plus any MODULE given — and then serves requests.
It never imports a module from the workspace itself, so a forked child always imports the
candidate's files fresh.

Protocol, one JSON object per line. The worker's stdout is the channel to the host; right at
start it is moved to a private fd and fd 1 points at /dev/null, so nothing the worker or the
code under test prints can reach the host as a record.
  -> {"kind": "ready", "preloaded": [...], "pid": N}                       once, at start
  <- {"id", "changed": {path: base64 | null}, "args": [...], "timeout", "output_bytes",
      "disk_bytes": N | null (poll the workspace's size and stop the child past it),
      "disk_inodes": N | null (and its number of files),
      "reap": bool (after the child, kill every other process of this uid: safe only where the
              sandbox has a pid namespace of its own), "spare": [pids that are not leftovers]}
  -> {"kind": "originals", "id", "files": {path: base64 | null}}  before the child runs, for
      paths this worker touches for the first time (the host keeps them; see below)
  -> {"id", "records": [JSON lines], "exit_code", "reason", "stdout", "stderr",
      "stdout_truncated", "stderr_truncated", "duration_s",
      "worker": {"tamper": [test/config files changed during the run], "drift": [other tracked
                 files changed during the run], "left": N processes of this uid left behind}}
`changed` is relative to the ORIGINAL workspace: files an earlier request changed are first
restored, so candidates never see each other's edits. A worker killed by a candidate leaves
that candidate's files on disk; the host therefore remembers the originals this worker
reported and always sends them explicitly for every path it ever changed.

Per request the worker forks a child in a new session with stdin on /dev/null, stdout and
stderr on capped pipes, and test records on a third pipe only the child holds; pytest runs
with recorder.Recorder writing to that pipe. The worker judges the child: the records, then
its exit status; past the timeout or the output cap it SIGKILLs the child's process group
and survives. The worker marks itself non-dumpable, so the child (same uid) cannot open
/proc/<worker>/fd/* to write to the host channel.

After each candidate the worker itself checks what the run left behind, outside the child's
process: processes of the sandbox uid that outlived it (a daemon that double-forked out of the
child's session) are killed and counted; test files, conftest.py and pytest configuration are
hashed again against their state before the run (a change fails the candidate: `tamper`); and
tracked files are compared by CONTENT with what the candidate should have seen (`drift`), so
an edit that keeps the size and restores the mtime is found and undone like any other.
"""
from __future__ import annotations

import ast
import base64
import importlib.util
import json
import os
import selectors
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name: str):
    """A module of ouro's guest code, by file, so nothing in the workspace can stand in for it."""
    spec = importlib.util.spec_from_file_location(f"_ouro_{name}", os.path.join(HERE, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_recorder():
    return _load("recorder")


def set_non_dumpable() -> None:
    try:
        import ctypes

        PR_SET_DUMPABLE = 4
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except Exception:
        pass


def _under(path: str | None, root: str) -> bool:
    if not path:
        return False
    path = os.path.realpath(path)
    return path == root or path.startswith(root + os.sep)


def workspace_imports(root: str) -> set[str]:
    """Top-level module names imported anywhere in the workspace's Python files."""
    names: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("__pycache__", "node_modules")]
        for fn in filenames:
            if not fn.endswith(".py"):
                continue
            try:
                with open(os.path.join(dirpath, fn), "rb") as f:
                    tree = ast.parse(f.read())
            except (SyntaxError, ValueError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names


WARMUP_TEST = """
import pytest

@pytest.fixture
def value():
    return {"a": [1, 2]}

@pytest.mark.parametrize("n", [1, 2])
def test_pass(value, n):
    assert value["a"][n - 1] == n

def test_fail():
    assert {"a": 1} == {"a": 2}

def test_raise():
    with pytest.raises(ZeroDivisionError):
        1 / 0
"""


def warm_up_pytest() -> None:
    """Run one throwaway session on a scratch test file, so the lazily imported parts of
    pytest (assertion rewriting, reporting, failure formatting) and the caches it fills
    (compiled regexes, plugin entry points, inspect) are warm in every forked child.
    It runs outside the workspace and leaves sys.path and sys.modules as they were."""
    import tempfile

    import pytest

    saved_path, saved_modules = list(sys.path), set(sys.modules)
    saved_hooks = list(sys.meta_path)
    saved_out = os.dup(1), os.dup(2)
    try:
        with tempfile.TemporaryDirectory(prefix="ouro-warmup-") as d:
            with open(os.path.join(d, "test_ouro_warmup.py"), "w") as f:
                f.write(WARMUP_TEST)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.close(null)
            pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", d, "--noconftest", d])
    except BaseException:
        pass
    finally:
        os.dup2(saved_out[0], 1)
        os.dup2(saved_out[1], 2)
        for fd in saved_out:
            os.close(fd)
        sys.path[:] = saved_path
        sys.meta_path[:] = saved_hooks
        for name in set(sys.modules) - saved_modules:
            if name == "test_ouro_warmup" or name.startswith("ouro-warmup"):
                del sys.modules[name]


def preload(root: str, extra: list[str]) -> list[str]:
    """Import pytest and every non-workspace module the workspace imports; return their names."""
    import pytest  # noqa: F401
    from _pytest.config import default_plugins

    for name in default_plugins:
        try:
            importlib.import_module(f"_pytest.{name}")
        except Exception:
            pass
    done = ["pytest"]
    for name in sorted(workspace_imports(root) | set(extra)):
        if name in sys.modules:  # already loaded with pytest (stdlib, mostly): warm as well
            if not _under(getattr(sys.modules[name], "__file__", None), root):
                done.append(name)
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or _under(spec.origin, root) or any(
                _under(p, root) for p in (spec.submodule_search_locations or [])):
            continue
        try:
            importlib.import_module(name)
            done.append(name)
        except BaseException:  # a module that fails to import is simply not preloaded
            for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                del sys.modules[mod]
    return done


class Workspace:
    """Keeps the workspace equal to "original files + this candidate's changes".

    At start it snapshots every regular file (content, up to SNAPSHOT_LIMIT bytes in all).
    Before each candidate it brings the disk back to that snapshot overlaid with the
    candidate's files: what an earlier candidate changed through the protocol, and also what
    its code or tests wrote, created or deleted while running, is undone. Detection is by
    CONTENT: every tracked file is read and compared with what it must hold (a (size, mtime)
    signature misses an edit that keeps the size and puts the old mtime back). One walk and
    one read of the tracked files per candidate (a few ms for a repository's sources).
    """

    SNAPSHOT_LIMIT = 64 << 20
    SKIP_DIRS = ("__pycache__", ".git", ".pytest_cache")

    def __init__(self, root: str):
        self.root = root
        self.base: dict[str, bytes] = {}
        self.untracked: set[str] = set()  # too big to snapshot: never restored or deleted
        self.base_dirs: set[str] = set()
        self.reported: set[str] = set()
        self.last: dict[str, bytes | None] = {}
        self.target: dict[str, bytes] = {}
        total = 0
        for rel, full in self._walk():
            st = os.lstat(full)
            if total + st.st_size > self.SNAPSHOT_LIMIT:
                self.untracked.add(rel)
                continue
            with open(full, "rb") as f:
                self.base[rel] = f.read()
            total += st.st_size
        self.target = dict(self.base)

    def _walk(self):
        """(relative path, full path) of every regular file; records directories seen."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in self.SKIP_DIRS]
            rel_dir = os.path.relpath(dirpath, self.root)
            if not hasattr(self, "_walked"):
                self.base_dirs.add(rel_dir)
            for fn in filenames:
                full = os.path.join(dirpath, fn)
                if os.path.isfile(full) and not os.path.islink(full):
                    yield os.path.normpath(os.path.join(rel_dir, fn)), full
        self._walked = True

    def _path(self, rel: str) -> str:
        full = os.path.realpath(os.path.join(self.root, rel))
        if not _under(full, self.root):
            raise ValueError(f"path outside the workspace: {rel}")
        return full

    def _write(self, rel: str, data: bytes) -> None:
        full = self._path(rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if os.path.islink(full):
            os.unlink(full)
        with open(full, "wb") as f:
            f.write(data)
        self._drop_bytecode(full)

    def _remove(self, rel: str, full: str) -> None:
        try:
            os.unlink(full)
        except FileNotFoundError:
            pass
        self._drop_bytecode(full)

    @staticmethod
    def _read(full: str) -> bytes | None:
        try:
            with open(full, "rb") as f:
                return f.read()
        except OSError:
            return None

    def drift(self) -> list[str]:
        """Tracked files whose content on disk is no longer what this candidate was given."""
        out = []
        for rel, data in self.target.items():
            full = os.path.join(self.root, rel)
            if os.path.islink(full) or self._read(full) != data:
                out.append(rel)
        return sorted(out)

    @staticmethod
    def _drop_bytecode(full: str) -> None:
        # A .pyc with the same mtime and size as the edited source would be trusted.
        if full.endswith(".py"):
            cache = os.path.join(os.path.dirname(full), "__pycache__")
            stem = os.path.basename(full)[:-3] + "."
            if os.path.isdir(cache):
                for fn in os.listdir(cache):
                    if fn.startswith(stem):
                        os.unlink(os.path.join(cache, fn))

    def apply(self, changed: dict[str, bytes | None]) -> dict[str, bytes | None]:
        """Make the disk equal to snapshot + changed; return the originals of paths the host
        has not been told about yet (None: the path did not exist)."""
        changed = {os.path.normpath(p): c for p, c in changed.items()}
        for rel in changed:
            self._path(rel)  # refuse paths outside the workspace before touching anything
        target: dict[str, bytes] = dict(self.base)
        for rel, data in changed.items():
            if data is None:
                target.pop(rel, None)
            else:
                target[rel] = data
        on_disk = {}
        for rel, full in self._walk():
            on_disk[rel] = full
        for rel, full in on_disk.items():
            if rel not in target and rel not in self.untracked:
                self._remove(rel, full)  # created by a candidate or its run, or deleted now
        for rel, data in target.items():
            if rel not in on_disk or self._read(on_disk[rel]) != data:
                self._write(rel, data)
        # directories a run created and left empty
        for dirpath, dirnames, filenames in os.walk(self.root, topdown=False):
            rel_dir = os.path.relpath(dirpath, self.root)
            if any(part in self.SKIP_DIRS for part in rel_dir.split(os.sep)):
                continue
            if rel_dir not in self.base_dirs and not os.listdir(dirpath):
                os.rmdir(dirpath)
        self.last = changed
        self.target = target
        fresh = {rel: self.base.get(rel) for rel in changed if rel not in self.reported}
        self.reported.update(changed)
        return fresh


def run_child(recorder, root: str, args: list[str], rec_w: int, out_w: int, err_w: int, key: bytes,
              expected: dict | None = None) -> None:
    """In the forked child: isolate, forget workspace modules, run pytest, exit."""
    code = 3
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        # the audit hook writes through its own copy of the worker's fd 2; point it at this
        # child's stderr pipe so the child's events come back in its reply (once, before user code)
        hook = sys.modules.get("_ouro_audit_hook")
        if hook is not None:
            hook.rebind_channel(2)
        for name, mod in list(sys.modules.items()):
            if _under(getattr(mod, "__file__", None), root):
                del sys.modules[name]
        importlib.invalidate_caches()
        sys.dont_write_bytecode = True
        os.chdir(root)
        import pytest

        emit = recorder.jsonl_writer(rec_w, key)
        del key
        rec = recorder.Recorder(emit, root=root, expected=expected)
        code = int(pytest.main(["-p", "no:cacheprovider", *args], plugins=[rec]))
        sys.stdout.flush()
        sys.stderr.flush()
        emit({"kind": "finished", "exitstatus": code, "reported": rec.reported, "tamper": rec.tamper})
    except BaseException:
        try:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:
            pass
    hook = sys.modules.get("_ouro_audit_hook")
    if hook is not None:  # the channel's last line for this child (os._exit skips atexit)
        try:
            hook.finish_channel("exit")
        except BaseException:
            pass
    os._exit(code)


_fsstat = _load("fsstat")
disk_usage = _fsstat.disk_usage      # the same functions the bwrap backend uses on the host
tree_entries = _fsstat.tree_entries


def reap_leftovers(spare=()) -> int:
    """Kill every other process of this uid in this pid namespace (daemons a candidate left
    behind) except this worker, its ancestors and `spare`; return how many there were."""
    me, uid = os.getpid(), os.getuid()
    keep = {me, 1, *spare}
    pid = os.getppid()
    while pid > 1 and pid not in keep:
        keep.add(pid)
        pid = _status(pid).get("PPid", 0)
    killed: set[int] = set()
    for _ in range(4):  # a daemon may fork while we look: look again until nothing new
        found = 0
        try:
            names = os.listdir("/proc")
        except OSError:
            return len(killed)
        for name in names:
            if not name.isdigit() or int(name) in keep:
                continue
            st = _status(int(name))
            if st.get("Uid") != uid or st.get("State") == "Z":
                continue
            try:
                os.kill(int(name), signal.SIGKILL)
            except OSError:
                continue
            if int(name) not in killed:
                killed.add(int(name))
                found += 1
        if not found:
            break
    deadline = time.monotonic() + 2.0  # SIGKILL is delivered asynchronously: let them be gone
    while time.monotonic() < deadline and any(_status(p).get("State") not in (None, "Z") for p in killed):
        time.sleep(0.01)
    return len(killed)


def _status(pid: int) -> dict:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("PPid", "Uid"):
                    out[key] = int(value.split()[0])
                elif key == "State":
                    out[key] = value.split()[0]
    except (OSError, ValueError, IndexError):
        pass
    return out


def judge(pid: int, rec_r: int, out_r: int, err_r: int, timeout: float, cap: int,
          root: str | None = None, disk_bytes: int | None = None, disk_inodes: int | None = None) -> dict:
    """Collect a child's records and output under a deadline and an output cap; with
    disk_bytes/disk_inodes, the workspace's size and number of files are polled too (bwrap
    binds a host directory there, which has no size of its own; the next request's
    Workspace.apply removes what was written)."""
    start = time.monotonic()
    next_disk = start + 0.25
    deadline = start + timeout
    bufs = {rec_r: bytearray(), out_r: bytearray(), err_r: bytearray()}
    names = {out_r: "stdout", err_r: "stderr"}
    truncated = {"stdout": False, "stderr": False}
    total = 0
    killed = None
    sel = selectors.DefaultSelector()
    for fd in bufs:
        sel.register(fd, selectors.EVENT_READ)
    open_fds = len(bufs)
    while open_fds and killed is None:
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            killed = "timeout"
            break
        if (disk_bytes or disk_inodes) and now >= next_disk:
            next_disk = now + 0.25
            if (disk_bytes and disk_usage(root) > disk_bytes) or \
                    (disk_inodes and tree_entries(root, disk_inodes) > disk_inodes):
                killed = "disk_limit"
                break
        for key, _ in sel.select(timeout=min(left, 0.25 if (disk_bytes or disk_inodes) else 0.5)):
            data = os.read(key.fd, 65536)
            if not data:
                sel.unregister(key.fd)
                open_fds -= 1
                continue
            if key.fd == rec_r:
                bufs[rec_r] += data
                continue
            room = cap - total
            bufs[key.fd] += data[:max(room, 0)]
            total += min(len(data), max(room, 0))
            if len(data) > room:
                truncated[names[key.fd]] = True
                killed = "output_cap"
                break
    status = None
    while status is None:
        if killed is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wpid, st = os.waitpid(pid, 0 if killed else os.WNOHANG)
        if wpid:
            status = st
        elif time.monotonic() >= deadline:
            killed = "timeout"  # it closed its pipes but kept running
        else:
            time.sleep(0.005)
    try:  # grandchildren left in the child's group
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    sel.close()
    for fd in bufs:
        os.close(fd)
    if os.WIFSIGNALED(status):
        exit_code = -os.WTERMSIG(status)
    else:
        exit_code = os.WEXITSTATUS(status)
    stderr = bufs[err_r].decode("utf-8", "replace")
    reason = killed or "normal"
    if reason == "normal":
        if exit_code == -signal.SIGXFSZ:
            reason = "disk_limit"
        elif exit_code < 0:
            reason = "killed"
        elif exit_code != 0 and "MemoryError" in stderr[-2000:]:
            reason = "oom"
    return {
        "records": bufs[rec_r].decode("utf-8", "replace").splitlines(),
        "exit_code": exit_code,
        "reason": reason,
        "stdout": bufs[out_r].decode("utf-8", "replace"),
        "stderr": stderr,
        "stdout_truncated": truncated["stdout"],
        "stderr_truncated": truncated["stderr"],
        "duration_s": time.monotonic() - start,
    }


def main(argv: list[str]) -> int:
    # The host channel moves to a private fd; fd 1 becomes /dev/null for everyone else.
    chan = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    set_non_dumpable()
    root = os.path.realpath(os.getcwd())
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
    sys.path.insert(0, root)
    sys.dont_write_bytecode = True
    recorder = load_recorder()
    warm = "--no-warmup" not in argv  # for measuring what the warm-up buys
    loaded = preload(root, [a for a in argv if not a.startswith("--")])
    if warm:
        warm_up_pytest()
    # Everything loaded so far lives as long as the worker: moved out of the collector's
    # sight, so pytest's gc.collect() in each child neither walks it nor copies its pages.
    import gc

    gc.collect()
    gc.freeze()
    ws = Workspace(root)
    chan.write(json.dumps({"kind": "ready", "preloaded": loaded, "pid": os.getpid()}) + "\n")
    for line in sys.stdin:
        req = None
        try:
            req = json.loads(line)
            changed = {p: (None if c is None else base64.b64decode(c)) for p, c in req["changed"].items()}
            fresh = ws.apply(changed)
        except Exception as e:  # a bad request is answered, never fatal
            chan.write(json.dumps({"id": req.get("id") if isinstance(req, dict) else None,
                                   "records": [], "exit_code": None, "reason": "killed",
                                   "stdout": "", "stderr": f"bad request: {e}", "duration_s": 0.0}) + "\n")
            continue
        if fresh:
            # Sent before the candidate runs: if it kills this worker, the host still knows
            # the original files and restores them through the next worker.
            chan.write(json.dumps({"kind": "originals", "id": req.get("id"), "files": {
                p: (None if c is None else base64.b64encode(c).decode()) for p, c in fresh.items()}}) + "\n")
        # test files, conftest.py and pytest configuration as this candidate starts with them
        before = recorder.protected_hashes(root)
        key = recorder.new_key()  # per candidate; the forked child inherits it (recorder.py)
        rec_r, rec_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            chan_fd = chan.fileno()
            for fd in (rec_r, out_r, err_r, chan_fd):
                os.close(fd)
            run_child(recorder, root, list(req.get("args", [])), rec_w, out_w, err_w, key, before)
        for fd in (rec_w, out_w, err_w):
            os.close(fd)
        reply = judge(pid, rec_r, out_r, err_r, float(req.get("timeout", 300)), int(req.get("output_bytes", 1 << 20)),
                      root=root, disk_bytes=req.get("disk_bytes"), disk_inodes=req.get("disk_inodes"))
        # what the run left behind, checked from here (outside the child): first end every
        # process it left, so nothing changes the files while we look at them
        left = reap_leftovers([int(p) for p in req.get("spare") or [] if str(p).isdigit()]) if req.get("reap") else 0
        # Only lines sealed with this request's key count: the child's test code holds the
        # record pipe's fd and could write its own lines into it (see recorder.py).
        reply["records"], forged = recorder.unseal(key, reply["records"])
        if forged:
            reply["records"].append({"kind": "forged", "count": forged})
        claimed = next((r.get("tamper") for r in reply["records"] if r.get("kind") == "finished"), None) or []
        tamper = set(recorder.changed_files(before, recorder.protected_hashes(root)))
        tamper.update(str(p) for p in claimed if isinstance(p, str))
        reply["worker"] = {"tamper": sorted(tamper), "left": left,
                           "drift": [r for r in ws.drift() if not recorder.is_protected(r)]}
        reply["id"] = req.get("id")
        chan.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

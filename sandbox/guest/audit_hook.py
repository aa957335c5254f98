"""The in-sandbox audit hook (PEP 578), installed before any code that is not ouro's runs.

Where it is installed from: the backends point PYTHONUSERBASE at guest/userbase, whose user
site dir holds a `.pth` that loads this module. `site` processes the user site dir FIRST,
before the site dirs of the environment's dependencies, so the hook is in place before any
dependency's `.pth` file, `sitecustomize` or `usercustomize` runs. boot/sitecustomize.py
(on PYTHONPATH) installs it too, for interpreters without a user site (a venv, `-s`); a second
install is a no-op. A child started with a changed environment or with -I/-S/-E/-s (or a
copied interpreter binary) may start unhooked: the parent's hook reports that as
`audit_tamper` before the child runs.

It classifies the interpreter's audit events into ouro's event kinds and streams them to the
host as stderr lines `\\x1eOURO-AUDIT {json}` (parsed by sandbox.audit.channel on the host).
Each process also writes a `hello` control line when the hook starts (with a commitment to a
random nonce) and a `bye` line when it ends (the nonce and how many event lines it sent), so
the host can tell a complete channel from one that was closed, dup2'd over or flooded.

Why it is shaped like this:
- Audit hooks cannot be removed once added, but module globals can be rebound by the code
  under test. So everything the hook needs is bound into a closure at install time and the
  channel is a private duplicate of fd 2 (pytest's fd capture and `sys.stderr = ...` do
  not reach it). Before each write the hook checks that the channel is still the pipe it
  duplicated (fstat identity); if it was closed or replaced, it says so on fd 2.
- The hook runs on every audited operation of every test, so the first thing it does is a
  frozenset membership test; only the few interesting event names do any more work, and
  repeated identical events are sent at most a few times.
- Budgets are per kind: a flood of one kind of event (say, /proc reads) uses up that kind's
  budget only; the first event of every other kind still goes out, hitting a budget is
  itself reported (`event_cap`), and deny/kill actions are always reported.
- Paths given relative to a directory fd (`dir_fd=`) are resolved against that directory.
- It is evidence, not a wall: code in the same process can reach the closure through `gc`
  and forge or silence it, and ctypes calls into libc show only as dlopen/dlsym. The host
  keeps its own record from outside the process (sandbox.audit.events).

Stdlib only; must run on the sandbox's Python 3.11.
"""
import json
import os
import sys

MARKER = b"\x1eOURO-AUDIT "
KIND_BUDGET = 60       # events sent per kind and process; the first of every kind always goes out
TOTAL_BUDGET = 600     # all kinds together; past it only kinds not seen yet and deny/kill actions
MAX_REPEATS = 3        # identical (kind, detail) pairs sent at most this many times

# Module names whose import is worth reporting by itself.
DANGEROUS_MODULES = frozenset({
    "ctypes", "_ctypes", "cffi", "pty", "resource", "mmap",
    "_xxsubinterpreters",
})
# Modules whose second execution means someone reloaded (or purged and re-imported) them,
# the classic way to try to get a "clean" copy that the hook does not see.
WATCHED_MODULES = frozenset({
    "os", "posix", "sys", "builtins", "subprocess", "socket", "_socket", "ctypes", "importlib",
    "io", "signal", "resource", "shutil", "pty", "sitecustomize", "audit_hook", "_ouro_audit_hook",
})
# Reads under these prefixes are secrets or other processes' data.
SECRET_PREFIXES = (
    "/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/root", "/home", "/etc/ssh", "/run/secrets",
    "/var/run/secrets", "/var/run/docker.sock", "/run/docker.sock", "/dev/mem", "/dev/kmem",
    "/proc/kcore", "/proc/1/", "/.ouro",
)
SECRET_SUFFIXES = ("/environ", "/mem", "/.ssh", "id_rsa", "/audit/key", ".pem")
PROC_PREFIXES = ("/proc", "/sys")
# Where a sandbox's files live (Debian root, guest code, workspace, tmpfs); reads elsewhere
# aim at host paths.
SANDBOX_LAYOUT = ("/usr/", "/lib", "/etc/", "/opt/", "/workspace", "/tmp/", "/dev/", "/bin/", "/sbin/", "/var/",
                  "/run/", "/proc/", "/sys/", "/srv/", "/mnt/")
# What the interpreter reads all the time; never an event.
QUIET_READ_PREFIXES = ("/usr/", "/lib", "/opt/ouro/guest/", "/etc/localtime", "/etc/ld.so", "/dev/null",
                       "/dev/urandom", "/proc/self/fd", "/etc/passwd", "/etc/group")
# ouro's audit log and its key, wherever a home puts them
AUDIT_STATE = ("/audit/log.jsonl", "/audit/log.jsonl.head", "/audit/key", "/audit/index.db")
# Files an interpreter executes at start-up: writing one plants code in every later interpreter.
STARTUP_NAMES = ("sitecustomize.py", "usercustomize.py")
# The environment a hooked child needs; a Python child started with these changed may start unhooked.
AUDIT_ENV = ("OURO_AUDIT", "PYTHONPATH", "PYTHONUSERBASE", "OURO_AUDIT_RULES")
UNHOOKING_ENV = ("PYTHONNOUSERSITE", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONINSPECT")
# Interpreter options that skip site (and with it the hook) or the environment.
UNHOOKING_FLAGS = frozenset("ISEs")
SEVERE = frozenset({"network", "dns", "os_system", "ctypes", "write_outside", "secret_read", "link_escape",
                    "process_kill", "module_reload", "audit_tamper", "audit_blinded"})

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def install(environ=None) -> bool:
    """Install the hook once per process. Returns False if it was already installed."""
    environ = os.environ if environ is None else environ
    if getattr(sys, "_ouro_audit_installed", False):
        return False
    if not hasattr(sys, "addaudithook"):   # PEP 578 came with 3.8: boot records this as audit_error
        raise RuntimeError("no audit hooks before Python 3.8: this process is not audited")
    workspace = environ.get("OURO_WORKSPACE", "/workspace").rstrip("/") or "/workspace"
    writable = tuple({workspace, "/tmp", environ.get("TMPDIR", "/tmp").rstrip("/") or "/tmp", "/dev/shm"})
    writable_roots = tuple(p + "/" for p in writable) + ("/dev/null", "/dev/tty")
    rules, rules_ok = _load_rules(environ.get("OURO_AUDIT_RULES", ""))
    # The interpreter's own installation is read all the time (on the local backend it may
    # live under /root or /home, which would otherwise look like secrets).
    own = {p.rstrip("/") + "/" for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    own.update(p.rstrip("/") + "/" for p in sys.path if p.startswith("/") and p.count("/") > 1 and "site-packages" in p)
    quiet = QUIET_READ_PREFIXES + tuple(sorted(own))
    base_env = {k: environ.get(k) for k in AUDIT_ENV + UNHOOKING_ENV}
    hook, rebind, finish = _make_hook(workspace, writable, writable_roots, rules, quiet, base_env)
    sys.addaudithook(hook)
    sys._ouro_audit_installed = True
    global rebind_channel, finish_channel
    rebind_channel = rebind
    finish_channel = finish
    _wrap_dir_fd_open()
    try:
        import atexit

        atexit.register(finish)
    except Exception:
        pass
    if not rules_ok:
        sys.audit("ouro.rules_unreadable", environ.get("OURO_AUDIT_RULES", "")[:120])
    return True


def rebind_channel(fd: int) -> bool:  # replaced by install(); see _make_hook's rebind
    return False


def finish_channel(reason: str = "exit") -> None:  # replaced by install(); see _make_hook's finish
    return None


def _load_rules(text):
    """([[kind, pattern, action], ...] for deny/kill rules, parsed?); log-only rules need nothing here."""
    try:
        raw = json.loads(text) if text else []
        return tuple((str(k), str(p), str(a)) for k, p, a in raw if a in ("deny", "kill")), True
    except (ValueError, TypeError):
        return (), False


def _wrap_dir_fd_open():
    """os.open's audit event carries no dir_fd: report the directory-relative name resolved.

    A thin wrapper on os.open (posix.open is the same object) raises `ouro.openat` with the
    path joined to the directory fd's target, then calls the original. Code that kept a
    reference to the original before this ran does not exist yet (we run before user code);
    code that digs it out of this closure is in-process tampering, which the hook cannot stop."""
    import posix

    original = posix.open
    readlink = os.readlink
    fsdecode = os.fsdecode
    audit = sys.audit

    class Open:
        """os.open with dir_fd reported. A callable object, not a function: pathlib before 3.11
        keeps `open = os.open` as a class attribute, where a function would bind as a method."""

        __slots__ = ()
        __doc__ = original.__doc__

        def __call__(self, path, flags, mode=0o777, *, dir_fd=None):
            if dir_fd is not None and not isinstance(path, int):
                p = fsdecode(path)
                if not p.startswith("/"):
                    try:
                        base = readlink(f"/proc/self/fd/{dir_fd}")
                    except (OSError, TypeError, ValueError):
                        base = f"<fd {dir_fd}>"
                    audit("ouro.openat", base.rstrip("/") + "/" + p, flags)
            return original(path, flags, mode, dir_fd=dir_fd)

        def __repr__(self):
            return "<built-in function open>"

    open = Open()
    os.open = posix.open = open
    # shutil.rmtree and os.fwalk pick their safe, fd-based code by this set's membership
    if original in os.supports_dir_fd:
        os.supports_dir_fd.add(open)


def _make_hook(workspace, writable, writable_roots, rules, quiet_reads, base_env):
    # Everything below is captured in this closure: rebinding module globals changes nothing.
    channel = os.dup(2)
    os.set_inheritable(channel, False)
    write = os.write
    fstat = os.fstat
    getpid = os.getpid
    getcwd = os.getcwd
    readlink = os.readlink
    normpath = os.path.normpath
    realpath = os.path.realpath
    fsdecode = os.fsdecode
    dumps = json.dumps
    _exit = os._exit
    environ = os.environ
    install_pid = os.getpid()
    try:  # the builtin module: no OpenSSL to load at every interpreter start
        from _sha256 import sha256
    except ImportError:
        from hashlib import sha256
    nonce = os.urandom(12).hex()
    commitment = sha256(nonce.encode()).hexdigest()[:32]
    sent = {}
    per_kind = {}
    capped = set()

    def identity(fd):
        st = fstat(fd)
        return (st.st_dev, st.st_ino, st.st_mode)

    state = {"busy": False, "count": 0, "channel": channel, "rebound_pid": None, "pid": install_pid,
             "identity": identity(channel), "blinded": False, "done": False}
    # Files (or frozen names) of watched modules already executed: executing one again is a reload.
    module_files = set()
    for name in WATCHED_MODULES:
        mod = sys.modules.get(name)
        if mod is not None:
            module_files.add(f"<frozen {name}>")
            f = getattr(mod, "__file__", None)
            if f:
                module_files.add(f)
    reported_imports = set()
    try:
        exe = os.path.realpath(sys.executable)
        exe_size = os.stat(exe).st_size
    except OSError:
        exe, exe_size = "", -1
    boot_dir = (base_env.get("PYTHONPATH") or "").split(":")[0]
    base_unhooking = {k: base_env.get(k) for k in UNHOOKING_ENV}  # set for this process already: no change

    interesting = frozenset({
        "open", "os.listdir", "os.scandir", "os.symlink", "os.link", "os.rename", "os.remove",
        "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate", "os.utime",
        "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
        "socket.gethostbyname", "socket.gethostbyaddr", "socket.__new__",
        "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
        "os.forkpty", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
        "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function",
        "ctypes.string_at", "ctypes.addressof", "ctypes.cdata",
        "import", "exec", "sys.addaudithook", "resource.setrlimit", "resource.prlimit",
        "sys.settrace", "sys.setprofile", "ouro.rebind", "ouro.openat", "ouro.rules_unreadable",
    })

    def abspath(p, dir_fd=None):
        if isinstance(p, int):
            return None
        p = fsdecode(p)
        if not p.startswith("/"):
            if isinstance(dir_fd, int) and dir_fd >= 0:  # the events say -1 when there is no dir_fd
                try:
                    base = readlink(f"/proc/self/fd/{dir_fd}")
                except OSError:
                    base = "/<unknown dir fd>"
            else:
                base = getcwd()
            p = base.rstrip("/") + "/" + p
        if "/." in p or "//" in p:
            p = normpath(p)
        return p

    def outside(p):
        return not (p in writable or p.startswith(writable_roots))

    def startup_file(p):
        name = p.rsplit("/", 1)[-1]
        return name.endswith(".pth") or name in STARTUP_NAMES

    def classify_open(p, mode, flags):
        is_write = (mode is not None and any(c in mode for c in "wax+")) or (mode is None and flags & _WRITE_FLAGS)
        if is_write:
            if "/.ouro/" in p or p.endswith(AUDIT_STATE):
                return (("audit_tamper", f"open({p!r}, {mode or flags!r}) in ouro's host state"),)
            out = []
            if startup_file(p):
                out.append(("audit_tamper", f"open({p!r}, {mode or flags!r}): writes an interpreter start-up file"))
            if outside(p) and "/__pycache__/" not in p:
                kind = ("audit_tamper" if p.startswith(("/opt/ouro", "/proc/self/fd")) else
                        "proc_access" if p.startswith(PROC_PREFIXES) else "write_outside")
                out.append((kind, f"open({p!r}, {mode or flags!r})"))
            return out
        if p.startswith(quiet_reads):
            return ()
        if not outside(p):
            # a link planted in the workspace or /tmp (a repository can ship one) names its
            # target only on disk: follow it here, and judge where the read really goes
            try:
                real = realpath(p)
            except (OSError, ValueError):
                return ()
            if real == p or not outside(real) or real.startswith(quiet_reads):
                return ()
            return tuple((k, f"{d} through {p!r}") for k, d in classify_open(real, mode, flags))
        if p.startswith(SECRET_PREFIXES) or p.endswith(SECRET_SUFFIXES) or "/.ouro/" in p:
            return (("secret_read", f"open({p!r})"),)
        if p.startswith(PROC_PREFIXES):
            return (("proc_access", f"open({p!r})"),)
        if not p.startswith(SANDBOX_LAYOUT):
            # nothing the sandbox provides lives there: a host path someone guessed or learned
            return (("secret_read", f"open({p!r}) outside the sandbox's file system layout"),)
        return ()

    def child_env_problems(env):
        """What a child's environment changed that can start it without the hook."""
        if env is None:
            env = environ
        raw_get = env.get if hasattr(env, "get") else (lambda k, d=None: d)

        def get(k):
            for key in (k, k.encode()):
                try:
                    v = raw_get(key)
                except (TypeError, ValueError):  # os.environ takes str keys only, a dict of bytes the other
                    continue
                if v is not None:
                    return v
            return None

        out = []
        for k in AUDIT_ENV:
            v = get(k)
            v = fsdecode(v) if isinstance(v, bytes) else v
            if k == "PYTHONPATH" and boot_dir and v and boot_dir in v.split(":"):
                continue
            if v != base_env.get(k):
                out.append(k)
        out += [k for k in UNHOOKING_ENV if get(k) is not None and base_unhooking.get(k) is None]
        return out

    def looks_like_python(prog, argv0):
        if "python" in prog.rsplit("/", 1)[-1] or "python" in argv0.rsplit("/", 1)[-1]:
            return True
        if exe_size < 0 or not prog:
            return False
        paths = [prog] if "/" in prog else [d + "/" + prog for d in (environ.get("PATH") or "").split(":") if d]
        for cand in paths:
            try:
                st = os.stat(cand)
            except OSError:
                continue
            # a copy of the interpreter under another name: same size as the real binary
            return st.st_size == exe_size
        return False

    def classify(event, args):
        """-> list of (kind, detail) for this audit event (usually empty)."""
        if event == "open":
            path, mode, flags = args
            p = abspath(path)
            if p is None:
                return ()
            return classify_open(p, mode, flags)
        if event == "ouro.openat":
            path, flags = args
            p = normpath(path) if ("/." in path or "//" in path) else path
            return tuple((k, d + " (relative to a directory fd)") for k, d in classify_open(p, None, flags))
        if event in ("os.listdir", "os.scandir"):
            target = args[0] if args[0] is not None else "."
            if isinstance(target, int):  # a directory fd: name what it is
                try:
                    target = readlink(f"/proc/self/fd/{target}")
                except OSError:
                    return ()
            p = abspath(target)
            if not p or p.startswith(quiet_reads) or not outside(p):
                return ()
            if p.startswith(PROC_PREFIXES):
                return (("proc_access", f"{event}({p!r})"),)
            if p and p.startswith(SECRET_PREFIXES):
                return (("secret_read", f"{event}({p!r})"),)
            return ()
        if event in ("os.symlink", "os.link"):
            dir_fd = args[2] if event == "os.symlink" and len(args) > 2 else (args[3] if len(args) > 3 else None)
            src_fd = None if event == "os.symlink" else (args[2] if len(args) > 2 else None)
            src, dst = abspath(args[0], src_fd), abspath(args[1], dir_fd)
            if event == "os.symlink" and not fsdecode(args[0]).startswith("/"):
                # a relative target is resolved from the link's directory
                src = normpath((dst or "").rsplit("/", 1)[0] + "/" + fsdecode(args[0]))
            if (src and outside(src) and not src.startswith(workspace)) or (dst and outside(dst)):
                return (("link_escape", f"{event}({src!r} -> {dst!r})"),)
            return ()
        if event in ("os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate",
                     "os.utime"):
            out = []
            if event == "os.rename":
                pairs = ((args[0], args[2] if len(args) > 2 else None), (args[1], args[3] if len(args) > 3 else None))
            else:
                fd_pos = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 2, "os.chmod": 2, "os.chown": 3,
                          "os.utime": 3}.get(event)
                pairs = ((args[0], args[fd_pos] if fd_pos is not None and len(args) > fd_pos else None),)
            for a, dfd in pairs:
                p = abspath(a, dfd)
                if p and (event in ("os.rename", "os.chmod") and startup_file(p)):
                    out.append(("audit_tamper", f"{event}({p!r}): an interpreter start-up file"))
                elif p and outside(p) and "/__pycache__" not in p:
                    out.append(("audit_tamper" if p.startswith("/opt/ouro") else "write_outside", f"{event}({p!r})"))
            return out
        if event.startswith("socket."):
            if event == "socket.__new__":
                family = args[1]
                if family not in (1, 2, 10, -1):  # AF_UNIX, AF_INET, AF_INET6; others are raw/packet
                    return (("network", f"socket(family={family!r}, type={args[2]!r})"),)
                return ()
            if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
                host = args[0]
                if host is None or (isinstance(host, str) and not host.strip("0123456789.:")):
                    return ()  # a numeric address needs no name lookup; the connect is reported
                return (("dns", f"{event}({host!r})"),)
            addr = args[-1] if event == "socket.sendto" else (args[1] if len(args) > 1 else None)
            if isinstance(addr, tuple) and len(addr) >= 2 and addr[1] == 53:
                return (("dns", f"{event}({addr!r}) to a DNS port"),)
            if isinstance(addr, (str, bytes)) and addr and not fsdecode(addr).startswith("\0"):
                try:  # a unix socket path: name what it resolves to, so rules match through links
                    real = os.path.realpath(fsdecode(addr))
                    if real != fsdecode(addr):
                        return (("network", f"{event}({addr!r} -> {real!r})"),)
                except (OSError, ValueError):
                    pass
            return (("network", f"{event}({addr!r})"),)
        if event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "pty.spawn"):
            if event == "subprocess.Popen":
                executable, argv, env = args[0], args[1], args[3]
            elif event == "pty.spawn":
                executable, argv, env = None, args[0], None
            else:
                executable, argv, env = args[0], args[1], args[2]
            argv = [fsdecode(a) if isinstance(a, (str, bytes)) else str(a) for a in (
                argv if isinstance(argv, (list, tuple)) else [argv])]
            out = [("subprocess", f"{event}: {' '.join(argv)[:200]}")]
            text = " ".join(argv)
            prog = fsdecode(executable) if isinstance(executable, (str, bytes)) else (argv[0] if argv else "")
            if looks_like_python(prog, argv[0] if argv else ""):
                flags = []
                for a in argv[1:]:
                    if a in ("-c", "-m") or not a.startswith("-") or a.startswith("--"):
                        break
                    flags += [c for c in a[1:] if c in UNHOOKING_FLAGS]
                if flags:
                    out.append(("audit_tamper", f"child python started with -{''.join(sorted(set(flags)))} "
                                                f"(skips site, the environment or the user site: no hook)"))
                changed = child_env_problems(env)
                if changed:
                    out.append(("audit_tamper", f"child python started with its audit environment changed: "
                                                f"{', '.join(changed)}"))
            if "OURO_AUDIT=0" in text or "PYTHONPATH=" in text or "OURO_AUDIT_RULES=" in text:
                out.append(("audit_tamper", "command line resets the audit environment"))
            if event == "os.exec":
                finish("exec")
            return out
        if event == "os.system":
            cmd = fsdecode(args[0]) if isinstance(args[0], (str, bytes)) else repr(args[0])
            return (("os_system", f"system({cmd[:200]!r})"),)
        if event in ("os.fork", "os.forkpty"):
            return (("fork", event),)
        if event in ("os.kill", "os.killpg", "signal.pthread_kill"):
            target = args[0]
            if event == "os.kill" and target == getpid():
                return ()
            return (("process_kill", f"{event}({target!r}, {args[1]!r})"),)
        if event.startswith("ctypes."):
            detail = event
            if event in ("ctypes.dlopen", "ctypes.dlsym"):
                detail = f"{event}({args[-1]!r})"
            return (("ctypes", detail),)
        if event == "import":
            name = args[0]
            if name in DANGEROUS_MODULES and name not in reported_imports:
                reported_imports.add(name)  # the event fires twice per import
                return (("dangerous_import", f"import {name}"),)
            return ()
        if event == "exec":
            code = args[0]
            if getattr(code, "co_name", None) != "<module>":
                return ()
            fn = code.co_filename
            if fn in module_files:
                return (("module_reload", f"module code executed again: {fn}"),)
            if fn.startswith("<frozen "):
                stem = fn[8:-1]
            else:
                stem = fn.rsplit("/", 1)[-1][:-3] if fn.endswith(".py") else ""
                if stem == "__init__":
                    stem = fn.rsplit("/", 2)[-2] if fn.count("/") >= 2 else ""
            if stem in WATCHED_MODULES:
                module_files.add(fn)
            return ()
        if event == "ouro.rebind":
            return (("audit_tamper", f"attempt to move the audit channel to fd {args[0]!r}"),)
        if event == "ouro.rules_unreadable":
            return (("audit_tamper", f"OURO_AUDIT_RULES does not parse, so no deny/kill rule is enforced: {args[0]!r}"),)
        if event == "sys.addaudithook":
            return (("audit_tamper", "sys.addaudithook: another audit hook is being added"),)
        if event in ("sys.settrace", "sys.setprofile"):
            return ()
        if event.startswith("resource."):
            return (("limit_change", f"{event}{args!r}"[:200]),)
        return ()

    def send(record):
        """Write one line on the channel; notice (and say on fd 2) when it was closed or replaced."""
        fd = state["channel"]
        data = MARKER + dumps(record).encode("utf-8", "replace") + b"\n"
        try:
            ok = identity(fd) == state["identity"]
        except OSError:
            ok = False
        if not ok and not state["blinded"]:
            state["blinded"] = True
            warn = MARKER + dumps({"kind": "audit_blinded", "event": "channel", "pid": getpid(),
                                   "detail": f"the audit channel (fd {fd}) was closed or replaced by the code "
                                             f"under test", "action": "log", "seq": 0}).encode() + b"\n"
            try:
                if identity(2) == state["identity"]:
                    # only our duplicate was touched: fd 2 is still the same pipe
                    state["channel"] = fd = os.dup(2)
                    os.set_inheritable(fd, False)
                    ok = True
                write(2, warn)
            except OSError:
                pass
        try:
            write(fd, data)
        except OSError:
            pass

    def hook(event, args):
        if event not in interesting or state["busy"]:
            return
        state["busy"] = True
        try:
            try:
                found = classify(event, args)
            except Exception as e:  # a malformed argument must not break the program, nor hide the event
                found = (("audit_error", f"{event}: {type(e).__name__}: {e}"[:200]),)
            verdict = None
            for kind, detail in found:
                action = "log"
                for rkind, pattern, raction in rules:
                    if rkind == kind and (not pattern or pattern in detail):
                        action = raction
                        break
                key = (kind, detail)
                n = sent.get(key, 0)
                k = per_kind.get(kind, 0)
                fresh_kind = k == 0
                within = n < MAX_REPEATS and k < KIND_BUDGET and (state["count"] < TOTAL_BUDGET or kind in SEVERE)
                if within or fresh_kind or action != "log":
                    sent[key] = n + 1
                    per_kind[kind] = k + 1
                    state["count"] += 1
                    send({"kind": kind, "event": event, "detail": detail[:300], "pid": getpid(),
                          "action": action, "seq": state["count"]})
                elif n < MAX_REPEATS and kind not in capped:
                    capped.add(kind)
                    state["count"] += 1
                    send({"kind": "event_cap", "event": event, "pid": getpid(), "action": "log",
                          "seq": state["count"],
                          "detail": f"budget for {kind} events used up after {k}; later ones are not sent"})
                if action == "kill":
                    finish("kill")
                    _exit(137)
                if action == "deny":
                    verdict = f"ouro audit: {kind} denied by policy: {detail[:120]}"
        finally:
            state["busy"] = False
        if verdict:
            raise PermissionError(verdict)

    def hello():
        send({"ctl": "hello", "pid": getpid(), "commit": commitment})

    def finish(reason="exit"):
        """The last line of this process: the nonce behind its hello and how many events it sent."""
        if state["done"] and reason != "exec":
            return
        if getpid() != state["pid"]:
            return  # a forked child that never moved its channel: only the hooked process says bye
        state["done"] = True
        send({"ctl": "bye", "pid": getpid(), "nonce": nonce, "sent": state["count"], "reason": reason})

    def rebind(fd):
        """Point the channel at `fd` (a dup of it), once per process.

        The warm worker's forked child calls this right after putting its capture pipe on
        fd 2, before any candidate code runs, so that child's events travel with its reply.
        A second call in the same process is refused and reported: only the worker's own
        first call is legitimate, later ones are code under test hiding its events.
        """
        nonlocal nonce, commitment
        pid = getpid()
        if state["rebound_pid"] == pid or pid == install_pid:
            # the process the hook was installed in never needs to move its channel: only
            # the warm worker's forked children do. Report through the channel as it is.
            hook("ouro.rebind", (fd,))
            if state["rebound_pid"] == pid:
                return False
        state["rebound_pid"] = pid
        new = os.dup(fd)
        os.set_inheritable(new, False)
        state.update(channel=new, identity=identity(new), pid=pid, count=0, blinded=False, done=False)
        sent.clear()
        per_kind.clear()
        capped.clear()
        nonce = os.urandom(12).hex()
        commitment = sha256(nonce.encode()).hexdigest()[:32]
        hello()
        return True

    hello()
    return hook, rebind, finish

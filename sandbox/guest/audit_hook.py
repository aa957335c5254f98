"""The in-sandbox audit hook (PEP 578), installed by boot/sitecustomize.py when OURO_AUDIT=1.

Runs inside the sandbox, before any user code, in every Python process there (children
inherit it through PYTHONPATH and fork). It classifies the interpreter's audit events into
ouro's event kinds and streams them to the host as stderr lines `\\x1eOURO-AUDIT {json}`
(parsed by sandbox.audit.channel on the host).

Why it is shaped like this:
- Audit hooks cannot be removed once added, but module globals can be rebound by the code
  under test. So everything the hook needs is bound into a closure at install time and the
  channel is a private duplicate of fd 2 (pytest's fd capture and `sys.stderr = ...` do
  not reach it).
- The hook runs on every audited operation of every test, so the first thing it does is a
  frozenset membership test; only the few interesting event names do any more work, and
  repeated identical events are sent at most a few times.
- It is a deny-list with known gaps (ctypes calls into libc show only as dlopen/dlsym;
  os.environ reads raise no event): the host's static scan and the container's own limits
  cover what it cannot see.

Stdlib only; must run on the sandbox's Python 3.11.
"""
import json
import os
import sys

MARKER = b"\x1eOURO-AUDIT "
MAX_EVENTS = 300       # per process: a flood of events must not become its own output bomb
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
    rules = _load_rules(environ.get("OURO_AUDIT_RULES", ""))
    # The interpreter's own installation is read all the time (on the local backend it may
    # live under /root or /home, which would otherwise look like secrets).
    own = {p.rstrip("/") + "/" for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    own.update(p.rstrip("/") + "/" for p in sys.path if p.startswith("/") and p.count("/") > 1 and "site-packages" in p)
    quiet = QUIET_READ_PREFIXES + tuple(sorted(own))
    hook, rebind = _make_hook(workspace, writable, writable_roots, rules, quiet)
    sys.addaudithook(hook)
    sys._ouro_audit_installed = True
    global rebind_channel
    rebind_channel = rebind
    return True


def rebind_channel(fd: int) -> bool:  # replaced by install(); see _make_hook's rebind
    return False


def _load_rules(text):
    """[[kind, pattern, action], ...] for deny/kill rules; log-only rules need nothing here."""
    try:
        raw = json.loads(text) if text else []
        return tuple((str(k), str(p), str(a)) for k, p, a in raw if a in ("deny", "kill"))
    except (ValueError, TypeError):
        return ()


def _make_hook(workspace, writable, writable_roots, rules, quiet_reads):
    # Everything below is captured in this closure: rebinding module globals changes nothing.
    channel = os.dup(2)
    os.set_inheritable(channel, False)
    write = os.write
    getpid = os.getpid
    getcwd = os.getcwd
    normpath = os.path.normpath
    fsdecode = os.fsdecode
    dumps = json.dumps
    _exit = os._exit
    install_pid = os.getpid()
    sent = {}
    state = {"busy": False, "count": 0, "channel": channel, "rebound_pid": None}
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
        "sys.settrace", "sys.setprofile", "ouro.rebind",
    })

    def abspath(p):
        if isinstance(p, int):
            return None
        p = fsdecode(p)
        if not p.startswith("/"):
            p = getcwd() + "/" + p
        if "/." in p or "//" in p:
            p = normpath(p)
        return p

    def outside(p):
        return not (p in writable or p.startswith(writable_roots))

    def classify(event, args):
        """-> list of (kind, detail) for this audit event (usually empty)."""
        if event == "open":
            path, mode, flags = args
            p = abspath(path)
            if p is None:
                return ()
            is_write = (mode is not None and any(c in mode for c in "wax+")) or (mode is None and flags & _WRITE_FLAGS)
            if is_write:
                if "/.ouro/" in p:
                    return (("audit_tamper", f"open({p!r}, {mode or flags!r}) in ouro's host state"),)
                if outside(p) and "/__pycache__/" not in p:
                    kind = ("audit_tamper" if p.startswith(("/opt/ouro", "/proc/self/fd")) else
                            "proc_access" if p.startswith(PROC_PREFIXES) else "write_outside")
                    return ((kind, f"open({p!r}, {mode or flags!r})"),)
                return ()
            if p.startswith(quiet_reads) or not outside(p):
                return ()
            if p.startswith(SECRET_PREFIXES) or p.endswith(SECRET_SUFFIXES) or "/.ouro/" in p:
                return (("secret_read", f"open({p!r})"),)
            if p.startswith(PROC_PREFIXES):
                return (("proc_access", f"open({p!r})"),)
            if not p.startswith(SANDBOX_LAYOUT):
                # nothing the sandbox provides lives there: a host path someone guessed or learned
                return (("secret_read", f"open({p!r}) outside the sandbox's file system layout"),)
            return ()
        if event in ("os.listdir", "os.scandir"):
            p = abspath(args[0] if args[0] is not None else ".")
            if not p or p.startswith(quiet_reads) or not outside(p):
                return ()
            if p.startswith(PROC_PREFIXES):
                return (("proc_access", f"{event}({p!r})"),)
            if p and p.startswith(SECRET_PREFIXES):
                return (("secret_read", f"{event}({p!r})"),)
            return ()
        if event in ("os.symlink", "os.link"):
            src, dst = abspath(args[0]), abspath(args[1])
            if event == "os.symlink" and not fsdecode(args[0]).startswith("/"):
                # a relative target is resolved from the link's directory
                src = normpath((dst or "").rsplit("/", 1)[0] + "/" + fsdecode(args[0]))
            if (src and outside(src) and not src.startswith(workspace)) or (dst and outside(dst)):
                return (("link_escape", f"{event}({src!r} -> {dst!r})"),)
            return ()
        if event.startswith("os.") and event in ("os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.chmod",
                                                 "os.chown", "os.truncate", "os.utime"):
            out = []
            for a in args[:2] if event == "os.rename" else args[:1]:
                p = abspath(a)
                if p and outside(p) and "/__pycache__" not in p:
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
            is_python = "python" in prog.rsplit("/", 1)[-1] or "python" in (argv[0] if argv else "")
            if is_python:
                flags = [a for a in argv[1:4] if a.startswith("-") and not a.startswith("--") and
                         any(c in a for c in "ISE")]
                if flags:
                    out.append(("audit_tamper", f"child python started with {flags} (skips the audit hook)"))
            if env is not None and is_python:
                env_get = env.get if hasattr(env, "get") else (lambda k: None)
                if env_get("OURO_AUDIT") in (None, b"", "") and env_get(b"OURO_AUDIT") is None:
                    out.append(("audit_tamper", "child process started without OURO_AUDIT in its environment"))
            if "OURO_AUDIT=0" in text or "PYTHONPATH=" in text:
                out.append(("audit_tamper", "command line resets the audit environment"))
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
        if event == "sys.addaudithook":
            return (("audit_tamper", "sys.addaudithook: another audit hook is being added"),)
        if event in ("sys.settrace", "sys.setprofile"):
            return ()
        if event.startswith("resource."):
            return (("limit_change", f"{event}{args!r}"[:200]),)
        return ()

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
                if (n < MAX_REPEATS and state["count"] < MAX_EVENTS) or action != "log":
                    sent[key] = n + 1
                    state["count"] += 1
                    line = dumps({"kind": kind, "event": event, "detail": detail[:300], "pid": getpid(),
                                  "action": action, "seq": state["count"]})
                    try:
                        write(state["channel"], MARKER + line.encode("utf-8", "replace") + b"\n")
                    except OSError:
                        pass
                if action == "kill":
                    _exit(137)
                if action == "deny":
                    verdict = f"ouro audit: {kind} denied by policy: {detail[:120]}"
        finally:
            state["busy"] = False
        if verdict:
            raise PermissionError(verdict)

    def rebind(fd):
        """Point the channel at `fd` (a dup of it), once per process.

        The warm worker's forked child calls this right after putting its capture pipe on
        fd 2, before any candidate code runs, so that child's events travel with its reply.
        A second call in the same process is refused and reported: only the worker's own
        first call is legitimate, later ones are code under test hiding its events.
        """
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
        state["channel"] = new
        return True

    return hook, rebind

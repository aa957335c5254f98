"""Static scan of generated code (candidate patches, improvers, scaffold rewrites) before it runs.

Two parsers, because each sees what the other cannot:
- `ast` resolves names through imports (`from os import system as s; s(...)` is os.system),
  keywords and assignments (`use_sandbox=False`), function definitions (pytest hooks in a
  conftest) and string constants (fake result lines, audit-channel markers, secret paths).
- tree-sitter parses code `ast` rejects (a half-written patch, Python 2 syntax) and is used
  to find names assembled from pieces (`"sy" + "stem"`, `"metsys"[::-1]`) — obfuscation
  meant to slip past a name-based scan.

Findings use the same kinds as the dynamic hook (sandbox.audit.events.KINDS) plus the ones
only source shows: sandbox_disable, test_edit, env_read, obfuscated_import, os_exit,
pytest_hook, fake_result, signal_tamper.
"""
from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from ouro.sandbox.core.testfiles import is_test_file


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


# dotted call name -> kind (a trailing ".*" matches every attribute of the module)
CALLS: dict[str, str] = {
    "os.system": "os_system", "posix.system": "os_system", "os.popen": "os_system", "nt.system": "os_system",
    "subprocess.*": "subprocess", "pty.spawn": "subprocess", "os.posix_spawn": "subprocess",
    "os.posix_spawnp": "subprocess", "asyncio.create_subprocess_exec": "subprocess",
    "asyncio.create_subprocess_shell": "os_system",
    "socket.getaddrinfo": "dns", "socket.gethostbyname": "dns", "socket.gethostbyname_ex": "dns",
    "socket.gethostbyaddr": "dns", "socket.*": "network", "urllib.request.*": "network", "http.client.*": "network",
    "requests.*": "network", "ftplib.*": "network", "smtplib.*": "network",
    "ctypes.*": "ctypes", "cffi.*": "ctypes",
    "os.fork": "fork", "os.forkpty": "fork",
    "os.kill": "process_kill", "os.killpg": "process_kill", "signal.pthread_kill": "process_kill",
    "os._exit": "os_exit", "posix._exit": "os_exit",
    "os.symlink": "link_escape", "os.link": "link_escape",
    "importlib.reload": "module_reload", "imp.reload": "module_reload",
    "sys.addaudithook": "audit_tamper", "sys.settrace": "audit_tamper", "sys.setprofile": "audit_tamper",
    "signal.signal": "signal_tamper", "signal.alarm": "signal_tamper", "signal.setitimer": "signal_tamper",
    "signal.pthread_sigmask": "signal_tamper", "signal.siginterrupt": "signal_tamper",
    "resource.setrlimit": "limit_change", "resource.prlimit": "limit_change",
    "os.getenv": "env_read", "os.getenvb": "env_read", "os.putenv": "env_read", "os.unsetenv": "env_read",
    "__import__": "obfuscated_import", "builtins.__import__": "obfuscated_import",
}
_EXEC_PREFIX = ("os.exec", "os.spawn")
# import of these modules is itself a finding
IMPORTS = {"ctypes": "ctypes", "cffi": "ctypes", "_ctypes": "ctypes", "pty": "subprocess",
           "_posixsubprocess": "subprocess", "_pytest": "pytest_hook"}
# modules whose attributes must not be fetched by computed name
SENSITIVE_MODULES = {"os", "sys", "builtins", "subprocess", "posix", "socket", "ctypes", "importlib", "shutil",
                     "__builtins__", "signal", "resource", "nt", "pty"}
DANGEROUS_NAMES = {"system", "popen", "_exit", "fork", "kill", "subprocess", "ctypes", "socket", "execv", "execve",
                   "spawn", "posix", "__import__", "import_module", "addaudithook", "setrlimit", "CDLL", "cdll"}
# keywords / variables that switch isolation or auditing off when set to these values
SANDBOX_FLAGS = {"use_sandbox": False, "sandbox": False, "sandboxed": False, "enable_sandbox": False,
                 "sandbox_enabled": False, "use_docker": False, "isolate": False, "isolated": False,
                 "audit": False, "use_audit": False, "enable_audit": False, "unsafe_local": True,
                 "unsafe": True, "no_sandbox": True, "disable_sandbox": True, "disable_audit": True}
# pytest hooks that can change what a run reports
PYTEST_REPORT_HOOKS = {"pytest_runtest_makereport", "pytest_report_teststatus", "pytest_runtest_logreport",
                       "pytest_terminal_summary", "pytest_sessionfinish", "pytest_runtest_protocol",
                       "pytest_runtest_call", "pytest_pyfunc_call", "pytest_collection_modifyitems",
                       "pytest_runtest_setup", "pytest_configure", "pytest_unconfigure", "pytest_collectreport"}
REPORT_ATTRS = {"outcome", "passed", "failed", "longrepr", "wasxfail", "excinfo"}

_FAKE_RESULT = re.compile(r"(\b\d+ passed\b|\bPASSED\b|^=+ .*(passed|failed|error).* =+$|^Ran \d+ tests?\b|^OK( \(|$))",
                          re.M)
_SECRET_STR = re.compile(r"(/etc/shadow|/etc/gshadow|/proc/(\d+|self|\*|\{[^}]*\})/(environ|mem|maps)|id_rsa|\.ssh/|"
                         r"/var/run/docker\.sock|/run/docker\.sock|/root/|\.aws/credentials|/run/secrets)")
_PROC_STR = re.compile(r"^/(proc|sys)(/|$)")
_AUDIT_STR = re.compile(r"(OURO-AUDIT|\x1eOURO|OURO_AUDIT|\.ouro/audit|audit/key|log\.jsonl|_ouro_audit_hook|"
                        r"sitecustomize|/opt/ouro/guest|audit_hook|ouro-report|rebind_channel)")
_SANDBOX_STR = re.compile(r"(--unsafe-local|--no-sandbox|use_sandbox\s*=\s*False|OURO_AUDIT=0)")
_WRITE_MODES = re.compile(r"[wax+]")
_WRITE_METHODS = {"write_text", "write_bytes", "unlink", "rmdir", "rename", "replace", "touch", "chmod", "symlink_to",
                  "hardlink_to"}
_FS_CALLS = {"os.remove", "os.unlink", "os.rename", "os.replace", "os.rmdir", "os.chmod", "os.truncate",
             "shutil.rmtree", "shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.move", "os.makedirs",
             "os.mkdir"}



def _switches_off(name: str | None, value) -> bool:
    """`name = value` switches isolation or auditing off: a constant whose truth is the flag's
    "off" value (use_sandbox=0 or None as much as False)."""
    return name in SANDBOX_FLAGS and isinstance(value, ast.Constant) and bool(value.value) == SANDBOX_FLAGS[name]


def scan_source(path: str, source: str) -> list[Finding]:
    """All findings for one file's source (deduplicated, in line order)."""
    findings: list[Finding] = []
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError):
        tree = None
    if tree is not None:
        findings.extend(_AstScan(path).run(tree))
    findings.extend(_tree_sitter_scan(path, source, names_only=tree is not None))
    seen, out = set(), []
    for f in sorted(findings, key=lambda f: (f.line, f.kind, f.message)):
        if (f.line, f.kind) not in seen:
            seen.add((f.line, f.kind))
            out.append(f)
    return out


def scan_changed_files(files: dict[str, bytes | str | None]) -> list[Finding]:
    """Findings for a candidate patch given as {workspace-relative path: new content or None}:
    editing or deleting a test file is a finding by itself, and every Python file is scanned."""
    out: list[Finding] = []
    for path, content in sorted(files.items()):
        if is_test_file(path):
            out.append(Finding(path, 0, "test_edit", "deletes a test file" if content is None else "edits a test file"))
        if content is not None and path.endswith(".py"):
            text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
            out.extend(scan_source(path, text))
    return out


class _AstScan(ast.NodeVisitor):
    def __init__(self, path: str):
        self.path = path
        self.test_path = is_test_file(path)
        self.aliases: dict[str, str] = {}
        self.found: list[Finding] = []

    def run(self, tree: ast.AST) -> list[Finding]:
        for node in ast.walk(tree):  # aliases first: a name may be used above its import
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.aliases[(a.asname or a.name).split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        self.visit(tree)
        return self.found

    def add(self, node, kind: str, message: str) -> None:
        self.found.append(Finding(self.path, getattr(node, "lineno", 0), kind, message))

    def dotted(self, node) -> str:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else ""
        return ""

    # -- imports -----------------------------------------------------------------------
    def visit_Import(self, node):
        for a in node.names:
            self._import(node, a.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        if node.module:
            self._import(node, node.module)
            for a in node.names:
                kind = _call_kind(f"{node.module}.{a.name}")
                if kind and kind not in ("network", "subprocess", "env_read"):
                    self.add(node, kind, f"imports {node.module}.{a.name}")
        self.generic_visit(node)

    def _import(self, node, name: str):
        top = name.split(".")[0]
        if top in IMPORTS:
            self.add(node, IMPORTS[top], f"imports {name}")

    # -- calls ---------------------------------------------------------------------------
    def visit_Call(self, node):
        name = self.dotted(node.func)
        kind = _call_kind(name)
        if kind == "os_exit":
            where = "in a test path" if self.test_path else "(ends a test run without a report)"
            self.add(node, kind, f"calls {name} {where}")
        elif kind:
            self.add(node, kind, f"calls {name}")
        elif name.startswith(_EXEC_PREFIX):
            self.add(node, "subprocess", f"calls {name}")
        args = node.args
        if name in ("getattr", "builtins.getattr", "setattr", "delattr") and args:
            target = self.dotted(args[0]) if isinstance(args[0], (ast.Name, ast.Attribute)) else ""
            attr = args[1] if len(args) > 1 else None
            const = attr.value if isinstance(attr, ast.Constant) and isinstance(attr.value, str) else None
            if isinstance(args[0], ast.Call) and self.dotted(args[0].func) == "getattr":
                self.add(node, "obfuscated_import", "getattr chain")
            elif target.split(".")[0] in SENSITIVE_MODULES and (const is None or const in DANGEROUS_NAMES):
                self.add(node, "obfuscated_import", f"{name}({target}, {const if const else '<computed>'})")
            if name == "setattr" and len(args) > 2 and _switches_off(const, args[2]):
                self.add(node, "sandbox_disable", f"setattr(..., {const!r}, {args[2].value!r})")
            if name == "setattr" and const in REPORT_ATTRS:
                self.add(node, "pytest_hook", f"setattr(..., {const!r}) on a test report")
            if name == "setattr" and target.split(".")[0] in ("pytest", "_pytest"):
                self.add(node, "pytest_hook", f"monkeypatches {target}")
        if name in ("importlib.import_module", "importlib.__import__") and args:
            a = args[0]
            if not isinstance(a, ast.Constant) or str(a.value).split(".")[0] in SENSITIVE_MODULES:
                self.add(node, "obfuscated_import", f"{name} with a computed or sensitive name")
        if name in ("eval", "exec", "compile") and args and not isinstance(args[0], ast.Constant):
            self.add(node, "obfuscated_import", f"{name} of computed code")
        if name.endswith("monkeypatch.setattr") or name.endswith("mock.patch") or name == "patch":
            target = args[0] if args else None
            if isinstance(target, ast.Constant) and isinstance(target.value, str) and "pytest" in target.value:
                self.add(node, "pytest_hook", f"patches {target.value}")
            elif target is not None and self.dotted(target).split(".")[0] in ("pytest", "_pytest"):
                self.add(node, "pytest_hook", f"patches {self.dotted(target)}")
        if name in ("open", "io.open", "builtins.open", "os.open", "codecs.open") and args:
            self._open(node, args, node.keywords)
        if name in _FS_CALLS and args:
            self._path_write(node, args[0], name)
        if isinstance(node.func, ast.Attribute) and node.func.attr in _WRITE_METHODS:
            target = node.func.value
            if isinstance(target, ast.Call) and args is not None and target.args:
                self._path_write(node, target.args[0], f".{node.func.attr}()")
        for kw in node.keywords:
            self._flag(node, kw.arg, kw.value)
        self.generic_visit(node)

    def _open(self, node, args, keywords):
        mode = args[1] if len(args) > 1 else next((k.value for k in keywords if k.arg in ("mode", "flags")), None)
        is_write = (isinstance(mode, ast.Constant) and isinstance(mode.value, str) and _WRITE_MODES.search(mode.value)) \
            or (mode is not None and not isinstance(mode, ast.Constant))
        path = _const_str(args[0])
        if path is None:
            return
        if is_write:
            self._path_write(node, args[0], "open for writing")
        elif _SECRET_STR.search(path):
            self.add(node, "secret_read", f"opens {path!r}")

    def _path_write(self, node, arg, how: str):
        path = _const_str(arg)
        if path is None:
            return
        if is_test_file(path):
            self.add(node, "test_edit", f"{how} on test file {path!r}")
        elif _AUDIT_STR.search(path):
            self.add(node, "audit_tamper", f"{how} on audit file {path!r}")
        elif path.startswith("/") and not path.startswith(("/tmp", "/workspace", "/dev/null")):
            self.add(node, "write_outside", f"{how} on {path!r}")

    # -- assignments, definitions, constants ---------------------------------------------------
    def visit_Assign(self, node):
        for t in node.targets:
            self._assign_target(node, t, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        # `x.use_sandbox -= 1` and the like: any arithmetic on a switch changes it
        name = node.target.attr if isinstance(node.target, ast.Attribute) else getattr(node.target, "id", None)
        if name in SANDBOX_FLAGS:
            self.add(node, "sandbox_disable", f"changes {name} in place")
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self._assign_target(node, node.target, node.value)
        self.generic_visit(node)

    def _assign_target(self, node, target, value):
        if isinstance(target, ast.Name):
            self._flag(node, target.id, value)
        elif isinstance(target, ast.Attribute):
            self._flag(node, target.attr, value)
            base = self.dotted(target.value)
            if base.split(".")[0] in ("pytest", "_pytest"):
                self.add(node, "pytest_hook", f"assigns {base}.{target.attr}")
            elif target.attr in REPORT_ATTRS and isinstance(value, ast.Constant):
                self.add(node, "pytest_hook", f"sets .{target.attr} = {value.value!r} (forging a test report)")
            elif base.split(".")[0] in ("os", "sys", "builtins", "subprocess", "socket") and "." not in base:
                self.add(node, "audit_tamper", f"rebinds {base}.{target.attr}")
        elif isinstance(target, ast.Subscript):
            base = self.dotted(target.value)
            key = _const_str(target.slice)
            if base in ("os.environ",) and key and _AUDIT_STR.search(key):
                self.add(node, "sandbox_disable", f"changes {base}[{key!r}]")
            elif base == "sys.modules":
                self.add(node, "module_reload", f"replaces sys.modules[{key!r}]")
            elif base.split(".")[-1] in ("__builtins__",) or base == "builtins.__dict__":
                self.add(node, "audit_tamper", "rebinds a builtin")
            if _switches_off(key, value):
                self.add(node, "sandbox_disable", f"sets {key!r} = {value.value!r}")

    def visit_Dict(self, node):
        for k, v in zip(node.keys, node.values):
            key = _const_str(k) if k is not None else None
            if _switches_off(key, v):
                self.add(node, "sandbox_disable", f"{{{key!r}: {v.value!r}}}")
        self.generic_visit(node)

    def visit_Delete(self, node):
        for t in node.targets:
            if isinstance(t, ast.Subscript) and self.dotted(t.value) == "sys.modules":
                self.add(node, "module_reload", "deletes from sys.modules (forces a fresh import)")
        self.generic_visit(node)

    def _flag(self, node, name: str | None, value):
        if _switches_off(name, value):
            self.add(node, "sandbox_disable", f"{name}={value.value!r}")

    def visit_FunctionDef(self, node):
        if node.name in PYTEST_REPORT_HOOKS or (node.name.startswith("pytest_") and "conftest" in self.path):
            self.add(node, "pytest_hook", f"defines pytest hook {node.name}")
        for dec in node.decorator_list:
            d = self.dotted(dec.func if isinstance(dec, ast.Call) else dec)
            if d.endswith("hookimpl") or d.endswith("hookwrapper"):
                self.add(node, "pytest_hook", f"@{d} on {node.name}")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Attribute(self, node):
        d = self.dotted(node)
        if d in ("os.environ", "os.environb", "posix.environ"):
            self.add(node, "env_read", f"uses {d}")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and 3 <= len(node.value) <= 10_000:
            s = node.value
            if _AUDIT_STR.search(s):
                self.add(node, "audit_tamper", f"mentions the audit machinery: {s[:60]!r}")
            if _SANDBOX_STR.search(s):
                self.add(node, "sandbox_disable", f"string switches isolation off: {s[:60]!r}")
            if _SECRET_STR.search(s):
                self.add(node, "secret_read", f"mentions a secret path: {s[:60]!r}")
            elif _PROC_STR.search(s):
                self.add(node, "proc_access", f"mentions {s[:60]!r}")
            if _FAKE_RESULT.search(s):
                self.add(node, "fake_result", f"text imitating a test result: {s[:60]!r}")


def _call_kind(name: str) -> str | None:
    if not name:
        return None
    if name in CALLS:
        return CALLS[name]
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        k = CALLS.get(".".join(parts[:i]) + ".*")
        if k:
            return k
    return None


def _const_str(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f"/etc/{x}": the literal parts still say where it points
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


# -- tree-sitter ----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _parser():
    try:
        import tree_sitter_python
        from tree_sitter import Language, Parser
    except ImportError:
        return None
    return Parser(Language(tree_sitter_python.language()))


_TS_CALL_NAMES = {k for k in CALLS if not k.endswith(".*")}


def _tree_sitter_scan(path: str, source: str, names_only: bool) -> list[Finding]:
    """Assembled names always; the call table too when `ast` could not parse the file."""
    parser = _parser()
    if parser is None:
        return []
    tree = parser.parse(source.encode("utf-8", "replace"))
    out: list[Finding] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        t = node.type
        if t == "binary_operator" and node.child_count == 3 and node.children[1].type == "+":
            parts = _ts_string_parts(node)
            if parts and len(parts) > 1:
                joined = "".join(parts)
                if _looks_dangerous(joined):
                    out.append(Finding(path, node.start_point[0] + 1, "obfuscated_import",
                                       f"name assembled from pieces: {joined[:40]!r}"))
                    continue
        elif t == "subscript":
            # "metsys"[::-1] and friends
            value = node.child_by_field_name("value")
            if value is not None and value.type == "string" and b"::-1" in node.text:
                text = _ts_string_parts(value)
                if text and _looks_dangerous(text[0][::-1]):
                    out.append(Finding(path, node.start_point[0] + 1, "obfuscated_import",
                                       f"name hidden reversed: {text[0][::-1]!r}"))
        elif t == "call" and not names_only:
            func = node.child_by_field_name("function")
            name = func.text.decode("utf-8", "replace") if func is not None else ""
            kind = _call_kind(name) or ("subprocess" if name.startswith(_EXEC_PREFIX) else None)
            if kind:
                out.append(Finding(path, node.start_point[0] + 1, kind, f"calls {name} (unparseable file)"))
        elif t == "string" and not names_only:
            s = node.text.decode("utf-8", "replace")
            for rx, kind in ((_AUDIT_STR, "audit_tamper"), (_SECRET_STR, "secret_read"), (_FAKE_RESULT, "fake_result")):
                if rx.search(s):
                    out.append(Finding(path, node.start_point[0] + 1, kind, f"string {s[:60]!r} (unparseable file)"))
        elif t in ("import_statement", "import_from_statement") and not names_only:
            text = node.text.decode("utf-8", "replace")
            for mod, kind in IMPORTS.items():
                if re.search(rf"\b{re.escape(mod)}\b", text):
                    out.append(Finding(path, node.start_point[0] + 1, kind, f"imports {mod} (unparseable file)"))
        stack.extend(node.children)
    return out


def _ts_string_parts(node) -> list[str] | None:
    if node.type == "string":
        return ["".join(c.text.decode("utf-8", "replace") for c in node.children if c.type == "string_content")]
    if node.type == "binary_operator" and node.child_count == 3 and node.children[1].type == "+":
        left, right = _ts_string_parts(node.children[0]), _ts_string_parts(node.children[2])
        if left is not None and right is not None:
            return left + right
    return None


def _looks_dangerous(name: str) -> bool:
    name = name.strip()
    return name in DANGEROUS_NAMES or name in SENSITIVE_MODULES or name.split(".")[0] in ("os", "subprocess", "ctypes") \
        or name in ("OURO_AUDIT", "use_sandbox")

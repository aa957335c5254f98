"""What a scaffold rewrite may change in ouro's repair agent, and how a rewrite is read, vetted and run.

The interface. A rewrite of improvers/scaffold_target.py may define any of these; what it leaves
out keeps ouro's own, and nothing else of the agent can change (budget, time limit, stop rule,
validation, judging, the templates' code):

  rank(candidates, context) -> [score in [0, 1]]   the built-in policy's candidate order. The only
                 code: it runs in a sandbox (`SandboxedRanker`, purpose "improver"), never on the host.
  SEARCH         agent.search.SearchConfig fields: exploration, depth_penalty, max_depth,
                 max_children, max_merges, and "value" (agent.search.ValueWeights fields).
  LOCALIZATION   agent.localize.LocalizationWeights fields (how spectrum, traceback, frame
                 functions, test and issue mentions mix).
  TEMPLATES      {"on": {template: bool}, "lines_root", "lines_child", "max_variants"}:
                 agent.policies.builtin.TemplateSettings (a template missing from "on" is on).
  PROMPTS        {prompt name: text} replacing agent/prompts/<name>.md for language-model policies.

The upper-case names are data: the host reads them with ast.literal_eval from the source,
without running it, and checks them like any configuration. `vet` is the first gate (it parses;
imports nothing but math; no dunders, no frame or code introspection, no exec/eval/open...; the
audit's static scan finds nothing); the sandbox is the wall behind it, and the audit hook in the
sandbox's interpreter logs what the rewrite tries there.
"""
from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ouro.sandbox.core.errors import OuroError

TARGET = Path(__file__).resolve().parent / "scaffold_target.py"
GUEST = Path(__file__).resolve().parent / "guest" / "scaffold_ranker.py"
DATA_NAMES = ("SEARCH", "LOCALIZATION", "TEMPLATES", "PROMPTS")
# The part of SearchConfig that is scaffolding; budget, time limit, stop rule and seed are the run's.
SEARCH_KEYS = ("exploration", "depth_penalty", "max_depth", "max_children", "max_merges", "value")

_ALLOWED_IMPORTS = {"math"}
_FORBIDDEN_NAMES = {"open", "exec", "eval", "compile", "__import__", "globals", "locals", "getattr", "setattr",
                    "delattr", "vars", "input", "breakpoint", "help", "exit", "quit", "memoryview", "type", "object",
                    "dir", "super", "classmethod", "staticmethod", "property"}
# attributes that reach frames, code and globals without a dunder (a generator's gi_frame.f_globals
# is a module's namespace, builtins included)
_FORBIDDEN_ATTRS = {"gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "f_globals", "f_locals",
                    "f_builtins", "f_back", "f_code", "tb_frame", "tb_next", "co_code", "co_consts", "mro"}


class ScaffoldBroken(OuroError):
    """A rewrite cannot be used: it fails the vetting, does not load in the sandbox, or its
    rank() misbehaved at run time (wrong length, a score outside [0, 1], an error, too slow)."""


def sha(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# Reading and vetting a rewrite

def _data_nodes(tree: ast.Module) -> tuple[dict[str, ast.AST], list[str]]:
    nodes: dict[str, ast.AST] = {}
    problems = []
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name) and t.id in DATA_NAMES:
                if t.id in nodes:
                    problems.append(f"line {stmt.lineno}: {t.id} is assigned twice")
                nodes[t.id] = stmt.value
    return nodes, problems


def _check_search(table) -> dict:
    from ouro.agent.search import SearchConfig
    from ouro.sandbox.core.schema import SchemaError, from_table

    if not isinstance(table, dict):
        raise SchemaError("SEARCH: expected a dict")
    extra = set(table) - set(SEARCH_KEYS)
    if extra:
        raise SchemaError(f"SEARCH.{sorted(extra)[0]}: not scaffolding (may set: {', '.join(SEARCH_KEYS)})")
    cfg = from_table(SearchConfig, table, "SEARCH")
    for name, ok in (("exploration", cfg.exploration >= 0), ("depth_penalty", cfg.depth_penalty >= 0),
                     ("max_depth", 1 <= cfg.max_depth <= 6), ("max_children", 1 <= cfg.max_children <= 200),
                     ("max_merges", 0 <= cfg.max_merges <= 50), ("value.cap", 0 < cfg.value.cap <= 1)):
        if not ok:
            raise SchemaError(f"SEARCH.{name}: out of range")
    return table


def _check_localization(table) -> dict:
    from ouro.agent.localize import LocalizationWeights
    from ouro.sandbox.core.schema import SchemaError, from_table

    w = from_table(LocalizationWeights, table, "LOCALIZATION")
    bad = [f.name for f in dataclasses.fields(w) if getattr(w, f.name) < 0]
    if bad:
        raise SchemaError(f"LOCALIZATION.{bad[0]}: must be 0 or more")
    return table


def template_settings(table: dict):
    """TEMPLATES as agent.policies.builtin.TemplateSettings (a template missing from "on" is on)."""
    from ouro.agent.policies.builtin import TemplateSettings
    from ouro.agent.templates import TEMPLATES
    from ouro.sandbox.core.schema import SchemaError, from_table

    if not isinstance(table, dict):
        raise SchemaError("TEMPLATES: expected a dict")
    on = table.get("on", {})
    if not isinstance(on, dict) or not all(isinstance(v, bool) for v in on.values()):
        raise SchemaError("TEMPLATES.on: expected {template name: True or False}")
    unknown = [n for n in on if n not in TEMPLATES]
    if unknown:
        raise SchemaError(f"TEMPLATES.on.{unknown[0]}: no such template (known: {', '.join(TEMPLATES)})")
    enabled = None if all(on.get(n, True) for n in TEMPLATES) else [n for n in TEMPLATES if on.get(n, True)]
    return from_table(TemplateSettings, {**{k: v for k, v in table.items() if k != "on"},
                                         **({"enabled": enabled} if enabled is not None else {})}, "TEMPLATES")


def _check_prompts(table) -> dict:
    from ouro.agent.llm.prompts import override_problems
    from ouro.sandbox.core.schema import SchemaError

    if not isinstance(table, dict):
        raise SchemaError("PROMPTS: expected a dict")
    problems = override_problems(table)
    if problems:
        raise SchemaError(f"PROMPTS: {problems[0]}")
    return table


_CHECKS = {"SEARCH": _check_search, "LOCALIZATION": _check_localization,
           "TEMPLATES": lambda t: (template_settings(t), t)[1], "PROMPTS": _check_prompts}


def read_data(source: str) -> tuple[dict[str, dict], list[str]]:
    """The rewrite's data (upper-case names), read without running it, and what is wrong with it."""
    from ouro.sandbox.core.errors import BadInput

    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        return {}, [f"does not parse: {e.msg} (line {e.lineno})"]
    nodes, problems = _data_nodes(tree)
    data: dict[str, dict] = {}
    for name, node in nodes.items():
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            problems.append(f"line {node.lineno}: {name} must be a literal (it is read without running the file)")
            continue
        try:
            data[name] = _CHECKS[name](value)
        except BadInput as e:
            problems.append(str(e))
    return data, problems


def vet(source: str) -> list[str]:
    """Why this rewrite must not be used ([] when it may). The first gate, not the wall."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        return [f"does not parse: {e.msg} (line {e.lineno})"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad = [a.name for a in node.names if a.name not in _ALLOWED_IMPORTS]
            if bad:
                problems.append(f"line {node.lineno}: imports {', '.join(bad)}")
        elif isinstance(node, ast.ImportFrom):
            if node.module not in _ALLOWED_IMPORTS:
                problems.append(f"line {node.lineno}: imports from {node.module}")
        elif isinstance(node, ast.Attribute) and (node.attr.startswith("__") or node.attr in _FORBIDDEN_ATTRS):
            problems.append(f"line {node.lineno}: {'dunder' if node.attr.startswith('__') else 'introspection'} "
                            f"attribute {node.attr}")
        elif isinstance(node, ast.Name) and node.id in _FORBIDDEN_NAMES:
            problems.append(f"line {node.lineno}: uses {node.id}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value \
                and not _in_prompts(node, tree):
            problems.append(f"line {node.lineno}: a string naming a dunder ({node.value[:40]!r})")
    problems += read_data(source)[1]
    if not problems:
        from ouro.sandbox.audit.static_scan import scan_source

        problems += [f"line {f.line}: {f.kind}: {f.message}" for f in scan_source("scaffold_target.py", source)]
    return problems


def _in_prompts(node: ast.AST, tree: ast.Module) -> bool:
    """Prompt texts may quote anything: they are data for a model, never code."""
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PROMPTS" for t in stmt.targets):
            return any(n is node for n in ast.walk(stmt.value))
    return False


def defines_rank(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.FunctionDef) and n.name == "rank" for n in tree.body)


# ---------------------------------------------------------------------------------------------
# A vetted rewrite, as the objects the agent takes

@dataclass(frozen=True)
class Scaffold:
    source: str
    search: dict = field(default_factory=dict)          # SearchConfig fields (SEARCH_KEYS only)
    localization: dict = field(default_factory=dict)    # LocalizationWeights fields
    templates: dict = field(default_factory=dict)       # the TEMPLATES table
    prompts: dict = field(default_factory=dict)         # prompt name -> text
    has_rank: bool = False

    @property
    def sha(self) -> str:
        return sha(self.source)

    def template_settings(self):
        return template_settings(self.templates)

    def apply(self, config) -> None:
        """Put the scaffold's settings into a RepairConfig; what the config already sets (a
        user's --search-config) wins over the scaffold's."""
        value = {**self.search.get("value", {}), **config.search.get("value", {})}
        config.search = {**self.search, **config.search, **({"value": value} if value else {})}
        config.localization = {**self.localization, **config.localization}
        if self.prompts and config.policy != "builtin":
            config.llm_options = {**config.llm_options,
                                  "prompts": {**self.prompts, **(config.llm_options or {}).get("prompts", {})}}

    def policy(self, sandbox_policy, *, unsafe_local: bool = False, home: Path | None = None):
        """The built-in policy this scaffold makes: its templates, and its rank run in a sandbox."""
        from ouro.agent.policies.builtin import BuiltinPolicy

        ranker = SandboxedRanker(self.source, sandbox_policy, unsafe_local=unsafe_local, home=home) \
            if self.has_rank else None
        return BuiltinPolicy(ranker=ranker, templates=self.template_settings())


def load_scaffold(path: str | Path | None = None, source: str | None = None) -> Scaffold:
    """The scaffold file in use (or `path`, or `source`), vetted; ScaffoldBroken says why not."""
    if source is None:
        source = Path(path or TARGET).read_text(encoding="utf-8")
    problems = vet(source)
    if problems:
        raise ScaffoldBroken("; ".join(problems[:3]))
    data, _ = read_data(source)
    return Scaffold(source, search=data.get("SEARCH", {}), localization=data.get("LOCALIZATION", {}),
                    templates=data.get("TEMPLATES", {}), prompts=data.get("PROMPTS", {}),
                    has_rank=defines_rank(source))


# ---------------------------------------------------------------------------------------------
# The rewrite's rank(), in a sandbox

class SandboxedRanker:
    """The agent.policies.base.Ranker of a rewrite: its rank() runs in a sandbox opened for the
    purpose "improver", in one long-lived guest process per repair (guest/scaffold_ranker.py),
    which the host sends each node's candidates as plain JSON (one round trip per node).

    Every score is checked. The process's audit-hook events and how it ended go to `on_exec`
    (the policy points it at the repair's audit log) as one execution when the ranker closes;
    `events` keeps them too. A rewrite that cannot load, errs, answers wrongly or takes longer
    than `timeout_s` for one batch raises ScaffoldBroken: the repair fails, and that task is lost.
    """

    includes_localization = False

    def __init__(self, source: str, sandbox_policy, *, unsafe_local: bool = False, home: Path | None = None,
                 timeout_s: float = 60.0, start_timeout_s: float = 120.0, vetted: bool = True):
        if vetted:
            problems = vet(source)
            if problems:
                raise ScaffoldBroken("; ".join(problems[:3]))
        self.source = source
        self.sandbox_policy = sandbox_policy
        self.unsafe_local, self.home = unsafe_local, home
        self.timeout_s, self.start_timeout_s = timeout_s, start_timeout_s
        self.on_exec = None
        self.events: list[dict] = []         # audit-hook events of the rewrite's process
        self.calls = 0
        self.seconds = 0.0                  # host time spent in rank round trips (start included)
        self._sb = self._proc = None
        self._started = 0.0
        self._sent_context: tuple | None = None
        self._sent_files: set[str] = set()
        self._end = None                    # EndReason the host imposed (timeout), if any
        self._broken: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def _start(self) -> None:
        from ouro.sandbox.backends import open_sandbox

        self._started = time.monotonic()
        self._sb = open_sandbox(self.sandbox_policy, "improver", unsafe_local=self.unsafe_local, audit=True,
                                home=self.home, labels={"ouro.scaffold": sha(self.source)})
        self._sb.write_files({"_ouro/scaffold_ranker.py": GUEST.read_bytes(), "_ouro/scaffold.py": self.source.encode()})
        self._proc = self._sb.spawn([self._sb.python, "_ouro/scaffold_ranker.py", "_ouro/scaffold.py"],
                                    cwd=self._sb.workspace)
        hello = self._reply(self.start_timeout_s, "start")
        if hello.get("kind") != "ready":
            self._fail(f"the rewrite did not load in the sandbox: {str(hello.get('error', hello))[:300]}")

    def _reply(self, timeout: float, what: str) -> dict:
        from ouro.sandbox.base import EndReason

        line = self._proc.readline(timeout=timeout)
        self._collect()
        if not line:
            if self._proc.alive():
                self._end = EndReason.TIMEOUT
                self._fail(f"rank took longer than {timeout:g}s ({what})")
            self._fail(f"the rewrite's process ended ({what}): {self._tail()}")
        try:
            msg = json.loads(line)
        except ValueError:
            self._fail(f"garbled reply from the rewrite's process: {line[:120]!r}")
        if not isinstance(msg, dict):
            self._fail("garbled reply from the rewrite's process")
        return msg

    def _collect(self) -> None:
        """Move the audit hook's events out of the process's stderr as they come."""
        from ouro.sandbox.audit.channel import split_audit_lines

        _, events = split_audit_lines(self._proc.read_stderr())
        self.events.extend(events[: max(0, 2000 - len(self.events))])

    def _tail(self) -> str:
        from ouro.sandbox.audit.channel import split_audit_lines

        return split_audit_lines(self._proc.stderr_tail())[0].strip()[-300:]

    def _fail(self, why: str):
        self._broken = why
        self.close()
        raise ScaffoldBroken(why)

    def close(self) -> None:
        """Stop the process and the sandbox; log the process as one execution with its events."""
        if self._sb is None:
            return
        from ouro.sandbox.base import EndReason, ExecResult

        sb, proc, self._sb, self._proc = self._sb, self._proc, None, None
        try:
            if proc is not None:
                died = not proc.alive()
                proc.kill()
                from ouro.sandbox.audit.channel import split_audit_lines

                _, events = split_audit_lines(proc.read_stderr())
                self.events.extend(events[: max(0, 2000 - len(self.events))])
                reason = self._end or (EndReason.KILLED if died and self._broken else EndReason.NORMAL)
                result = ExecResult(exit_code=None, stdout="", stderr=self._broken or "", reason=reason,
                                    duration_s=time.monotonic() - self._started, audit_events=list(self.events))
                if self.on_exec is not None:
                    self.on_exec(result)
        finally:
            sb.close()

    # -- the Ranker protocol -----------------------------------------------------------------
    def __call__(self, candidates, context) -> list[float]:
        if self._broken:
            raise ScaffoldBroken(self._broken)
        if not candidates:
            return []
        t0 = time.monotonic()
        if self._sb is None:
            self._start()
        self._send_context(candidates, context)
        self.calls += 1
        rows = [[c.file, c.line, c.template, c.before, c.after, c.function, c.weight, c.context] for c in candidates]
        node_files = {p: t for p, t in (context.node_files or {}).items()}
        self._write({"op": "rank", "id": self.calls, "candidates": rows, "node_files": node_files})
        msg = self._reply(self.timeout_s, f"{len(candidates)} candidates")
        if msg.get("id") != self.calls:
            self._fail("the rewrite's process answered another request")
        if "error" in msg:
            self._fail(f"rank raised {str(msg['error'])[:300]}")
        scores = msg.get("scores")
        if not isinstance(scores, list) or len(scores) != len(candidates):
            self._fail(f"rank returned {len(scores) if isinstance(scores, list) else 'no list of'} scores "
                       f"for {len(candidates)} candidates")
        for s in scores:
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.0 <= s <= 1.0:
                self._fail(f"rank returned {s!r}, not a score in [0, 1]")
        self.seconds += time.monotonic() - t0
        return [float(s) for s in scores]

    def _send_context(self, candidates, context) -> None:
        """The run's context once, and each base file the first time a candidate edits it: the
        rewrite sees the files the search edits, not a copy of the whole repository per node."""
        base = context.base_files or {}
        key = (context.issue, tuple(context.target_tests or ()), id(context.localization))
        new = sorted({c.file for c in candidates if c.file in base} - self._sent_files)
        if key == self._sent_context and not new:
            return
        self._sent_files |= set(new)
        lines = getattr(context.localization, "lines", None) or []
        self._write({"op": "context", "issue": context.issue or "", "target_tests": list(context.target_tests or []),
                     "base_files": {p: base[p] for p in sorted(self._sent_files)},
                     "localization": [[s.file, s.line, s.score, s.function] for s in lines]})
        self._sent_context = key

    def _write(self, msg: dict) -> None:
        try:
            self._proc.write((json.dumps(msg) + "\n").encode())
        except (OSError, ValueError) as e:
            self._fail(f"the rewrite's process is gone: {e}")
        except Exception as e:  # noqa: BLE001 - the sandbox layer's own error for a dead process
            self._fail(f"the rewrite's process is gone: {str(e)[:200]}")

"""What the model can do to a repository: typed actions, their observations, and the schemas
it sees.

Actions: view a file or a line range, search by symbol (tree-sitter) or by text, replace a
string in a file, create a file, run the tests, finish. Models with tool calling get
`TOOL_SCHEMAS`; models without it write one fenced block per turn, which `parse_text_action`
reads:

    ```tool
    {"name": "replace_string", "arguments": {"path": "a.py", "old": "x < 1", "new": "x <= 1"}}
    ```

`ToolEnv` applies actions to a host copy of the repository (the model's scratch tree); the
patch it produces is validated in the sandbox by the search, never trusted from here.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

MAX_VIEW_LINES = 200
MAX_OBSERVATION_CHARS = 6000
_SKIP_DIRS = {".git", ".ouro", "__pycache__", ".venv", "venv", "node_modules", ".pytest_cache"}


class ActionError(ValueError):
    """The model asked for something malformed (unknown tool, missing or bad argument)."""


# --- actions --------------------------------------------------------------------------
@dataclass(frozen=True)
class ViewFile:
    path: str
    start_line: int | None = None
    end_line: int | None = None
    name = "view_file"


@dataclass(frozen=True)
class SearchSymbol:
    symbol: str
    name = "search_symbol"


@dataclass(frozen=True)
class SearchText:
    pattern: str
    name = "search_text"


@dataclass(frozen=True)
class ReplaceString:
    path: str
    old: str
    new: str
    name = "replace_string"


@dataclass(frozen=True)
class CreateFile:
    path: str
    content: str
    name = "create_file"


@dataclass(frozen=True)
class RunTests:
    name = "run_tests"


@dataclass(frozen=True)
class Finish:
    explanation: str = ""
    name = "finish"


Action = ViewFile | SearchSymbol | SearchText | ReplaceString | CreateFile | RunTests | Finish
ACTIONS: dict[str, type] = {cls.name: cls for cls in (ViewFile, SearchSymbol, SearchText, ReplaceString,
                                                       CreateFile, RunTests, Finish)}
EDIT_ACTIONS = (ReplaceString, CreateFile)


@dataclass
class Observation:
    text: str
    ok: bool = True
    edited: str | None = None  # the path an edit changed
    data: dict = field(default_factory=dict)


def action_to_dict(action: Action) -> dict:
    return {"name": action.name, "arguments": asdict(action)}


# --- schemas the model sees -----------------------------------------------------------
def _fn(name: str, description: str, props: dict, required: list[str]) -> dict:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": props, "required": required}}}


_S, _I = {"type": "string"}, {"type": "integer"}
TOOL_SCHEMAS = [
    _fn("view_file", "Show a file with line numbers, optionally only lines start_line..end_line (1-based).",
        {"path": _S, "start_line": _I, "end_line": _I}, ["path"]),
    _fn("search_symbol", "Find where a function, class or method is defined (name or Class.method).",
        {"symbol": _S}, ["symbol"]),
    _fn("search_text", "Find lines containing a text (plain substring) in the repository's files.",
        {"pattern": _S}, ["pattern"]),
    _fn("replace_string", "Replace the one occurrence of `old` in a file with `new` (old must occur exactly once).",
        {"path": _S, "old": _S, "new": _S}, ["path", "old", "new"]),
    _fn("create_file", "Create (or overwrite) a file with the given content.",
        {"path": _S, "content": _S}, ["path", "content"]),
    _fn("run_tests", "Run the repository's tests on the current edits and show the failures.", {}, []),
    _fn("finish", "Submit the current edits as the fix, with a short explanation of the change.",
        {"explanation": _S}, ["explanation"]),
]


# --- parsing --------------------------------------------------------------------------
def parse_action(name: str, arguments: dict) -> Action:
    """Turn a tool call into a typed action, or raise ActionError saying what is wrong."""
    cls = ACTIONS.get(name)
    if cls is None:
        raise ActionError(f"unknown tool {name!r}; the tools are: {', '.join(ACTIONS)}")
    if not isinstance(arguments, dict):
        raise ActionError(f"{name}: arguments must be a JSON object")
    fields = cls.__dataclass_fields__
    unknown = set(arguments) - set(fields)
    if unknown:
        raise ActionError(f"{name}: unknown argument(s) {', '.join(sorted(unknown))}")
    kwargs = {}
    for fname, f in fields.items():
        if fname not in arguments:
            if f.default is f.default_factory:  # both MISSING: the argument is required
                raise ActionError(f"{name}: missing argument {fname!r}")
            continue
        value = arguments[fname]
        want = int if fname in ("start_line", "end_line") else str
        if value is None and want is int:
            continue
        if want is int:
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ActionError(f"{name}: {fname} must be an integer") from None
        elif not isinstance(value, str):
            raise ActionError(f"{name}: {fname} must be a string")
        kwargs[fname] = value
    return cls(**kwargs)


_TEXT_ACTION = re.compile(r"```tool\s*\n(.*?)\n```", re.DOTALL)


def parse_text_action(text: str) -> Action | None:
    """The fallback for models without tool calling: the first ```tool block in the reply.
    None when there is no block; ActionError when there is one and it is malformed."""
    m = _TEXT_ACTION.search(text or "")
    if not m:
        return None
    try:
        obj = json.loads(m.group(1))
    except json.JSONDecodeError as e:
        raise ActionError(f"the ```tool block is not JSON: {e.msg}") from None
    if not isinstance(obj, dict) or "name" not in obj:
        raise ActionError('the ```tool block must be {"name": ..., "arguments": {...}}')
    return parse_action(str(obj["name"]), obj.get("arguments") or {})


# --- the environment actions run in -----------------------------------------------------
RunTestsFn = Callable[[], str]


class ToolEnv:
    """A scratch copy of the repository that actions read and edit.

    run_tests is supplied by whoever owns the sandbox (it validates the current edits and
    returns the failure text); without one the tool answers that tests are not available."""

    def __init__(self, root: Path, run_tests: RunTestsFn | None = None):
        self.root = Path(root).resolve()
        self._run_tests = run_tests

    def resolve(self, rel: str) -> Path:
        p = (self.root / rel).resolve()
        if p != self.root and self.root not in p.parents:
            raise ActionError(f"path {rel!r} is outside the repository")
        return p

    def execute(self, action: Action) -> Observation:
        try:
            return self._execute(action)
        except ActionError as e:
            return Observation(f"error: {e}", ok=False)

    def _execute(self, action: Action) -> Observation:
        if isinstance(action, ViewFile):
            return self._view(action)
        if isinstance(action, SearchSymbol):
            return self._search_symbol(action.symbol)
        if isinstance(action, SearchText):
            return self._search_text(action.pattern)
        if isinstance(action, ReplaceString):
            return self._replace(action)
        if isinstance(action, CreateFile):
            p = self.resolve(action.path)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(action.content, encoding="utf-8")
            return Observation(f"created {action.path} ({len(action.content.splitlines())} lines)", edited=action.path)
        if isinstance(action, RunTests):
            if self._run_tests is None:
                return Observation("run_tests is not available here; finish to have the edits tested", ok=False)
            return Observation(_clip(self._run_tests()))
        if isinstance(action, Finish):
            return Observation("finished")
        raise ActionError(f"unsupported action {action!r}")

    def _view(self, a: ViewFile) -> Observation:
        p = self.resolve(a.path)
        if not p.is_file():
            raise ActionError(f"no such file: {a.path}")
        lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
        start = max(1, a.start_line or 1)
        end = min(len(lines), a.end_line or start + MAX_VIEW_LINES - 1, start + MAX_VIEW_LINES - 1)
        body = "\n".join(f"{i:>5} {lines[i - 1]}" for i in range(start, end + 1))
        more = f"\n... ({len(lines) - end} more lines)" if end < len(lines) else ""
        return Observation(f"{a.path} lines {start}-{end} of {len(lines)}:\n{body}{more}")

    def python_files(self) -> list[Path]:
        out = []
        for p in sorted(self.root.rglob("*.py")):
            if not any(part in _SKIP_DIRS for part in p.relative_to(self.root).parts):
                out.append(p)
        return out

    def _search_symbol(self, symbol: str) -> Observation:
        files = [str(p.relative_to(self.root)) for p in self.python_files()]
        from ouro.agent.repomap import build_repomap  # the tree-sitter map also knows a definition's callers

        rmap = build_repomap(self.root, files)
        hits = [d for d in rmap.definitions if symbol in (d.qualname, d.name)]
        lines = []
        for d in hits[:30]:
            callers = ", ".join(c.qualname for c in rmap.callers(d)[:5])
            lines.append(f"{d.file}:{d.start_line}-{d.end_line} {d.kind} {d.qualname}"
                         + (f" (called from {callers})" if callers else ""))
        if not hits:
            return Observation(f"no definition of {symbol!r} found")
        return Observation("\n".join(lines), data={"hits": len(hits)})

    def _search_text(self, pattern: str) -> Observation:
        if not pattern:
            raise ActionError("search_text: empty pattern")
        hits = []
        for p in self.python_files():
            for i, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if pattern in line:
                    hits.append(f"{p.relative_to(self.root)}:{i}: {line.strip()}")
        if not hits:
            return Observation(f"no line contains {pattern!r}")
        more = f"\n... ({len(hits) - 50} more)" if len(hits) > 50 else ""
        return Observation("\n".join(hits[:50]) + more, data={"hits": len(hits)})

    def _replace(self, a: ReplaceString) -> Observation:
        p = self.resolve(a.path)
        if not p.is_file():
            raise ActionError(f"no such file: {a.path}")
        text = p.read_text(encoding="utf-8")
        count = text.count(a.old) if a.old else 0
        if count != 1:
            raise ActionError(f"replace_string: `old` occurs {count} times in {a.path}; it must occur exactly once")
        p.write_text(text.replace(a.old, a.new, 1), encoding="utf-8")
        line = text[: text.index(a.old)].count("\n") + 1
        return Observation(f"replaced 1 occurrence in {a.path} at line {line}", edited=a.path)


def _clip(text: str, limit: int = MAX_OBSERVATION_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - limit} characters cut) ...\n{text[-half:]}"

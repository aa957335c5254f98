"""A tree-sitter map of a repository: where each function/class is defined, and where names are used.

Localization uses it to turn lines into functions (the unit a developer thinks in), to find
the definitions a failing test or the issue text mentions, and the callers of a suspicious
function. tree-sitter (not `ast`) because it still maps a file that does not parse, which is
exactly the state some buggy repositories are in.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Definition:
    name: str
    qualname: str       # Class.method for methods
    kind: str           # function | class | method
    file: str           # repository-relative path
    start_line: int     # 1-based, inclusive
    end_line: int


@dataclass
class RepoMap:
    definitions: list[Definition] = field(default_factory=list)
    # name -> [(file, line)] for every identifier use that is not its definition
    references: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))

    def enclosing(self, file: str, line: int) -> Definition | None:
        """The innermost function (or class) around a line."""
        best = None
        for d in self.definitions:
            if d.file == file and d.start_line <= line <= d.end_line:
                if best is None or d.start_line >= best.start_line:
                    best = d
        return best

    def named(self, name: str) -> list[Definition]:
        return [d for d in self.definitions if d.name == name]

    def callers(self, d: Definition) -> list[Definition]:
        out = []
        for file, line in self.references.get(d.name, []):
            enc = self.enclosing(file, line)
            if enc is not None and enc != d and enc not in out:
                out.append(enc)
        return out

    def to_dict(self) -> dict:
        return {"definitions": [d.__dict__ for d in self.definitions]}


def _parser():
    import tree_sitter_python
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_python.language()))


def build_repomap(root: Path, files: list[str]) -> RepoMap:
    """Map definitions and identifier references in the given repository-relative .py files."""
    parser = _parser()
    rmap = RepoMap()
    for rel in files:
        try:
            data = (Path(root) / rel).read_bytes()
        except OSError:
            continue
        tree = parser.parse(data)
        _walk(tree.root_node, rel, [], rmap)
    return rmap


def _walk(node, rel: str, scope: list[str], rmap: RepoMap) -> None:
    # iterative over siblings, recursive into bodies: repositories are small, depth is shallow
    for child in node.children:
        t = child.type
        if t == "decorated_definition":
            inner = child.child_by_field_name("definition")
            if inner is not None:
                _define(inner, rel, scope, rmap, outer=child)
                continue
        if t in ("function_definition", "class_definition"):
            _define(child, rel, scope, rmap, outer=child)
            continue
        if t == "identifier":
            rmap.references[child.text.decode()].append((rel, child.start_point[0] + 1))
        _walk(child, rel, scope, rmap)


def _define(node, rel: str, scope: list[str], rmap: RepoMap, outer) -> None:
    name_node = node.child_by_field_name("name")
    if name_node is None:
        return
    name = name_node.text.decode()
    if node.type == "class_definition":
        kind = "class"
    else:
        kind = "method" if scope and scope[-1][0] == "class" else "function"
    qual = ".".join([s[1] for s in scope] + [name])
    rmap.definitions.append(Definition(name=name, qualname=qual, kind=kind, file=rel,
                                       start_line=outer.start_point[0] + 1, end_line=node.end_point[0] + 1))
    for part in ("parameters", "superclasses", "body"):
        sub = node.child_by_field_name(part)
        if sub is not None:
            _walk(sub, rel, [*scope, ("class" if kind == "class" else "def", name)], rmap)

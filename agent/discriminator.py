"""Pick one patch among the plausible ones (SWE-Search's discriminator, without a model).

Plausible patches all make the failing tests pass with no regression in the visible suite;
the hidden tests decide which is right, so prefer what a maintainer would merge: no test
file touched, the most visible tests passing, the fewest changed lines, and a result that
holds when the suite runs again from scratch (flaky passes are dropped).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

from ouro.sandbox.core.testfiles import is_test_file


@dataclass
class Ranked:
    node_id: int
    touches_tests: bool
    tests_passed: int
    changed_lines: int
    depth: int
    code_size: int = 0             # syntax nodes after the patch (see code_size)
    stable: bool | None = None     # None: not re-run

    def sort_key(self) -> tuple:
        return (self.touches_tests, -self.tests_passed, self.changed_lines, self.depth, self.code_size, self.node_id)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def code_size(files: dict[str, str]) -> int:
    """Syntax nodes in the changed files: between equally small diffs, the simpler code wins
    (`x[:i + 1]` -> `x[:i]` over `x[:i - 1]`), Occam's razor for patches."""
    total = 0
    for text in files.values():
        try:
            total += sum(1 for _ in ast.walk(ast.parse(text)))
        except (SyntaxError, ValueError):
            total += 10**6
    return total


def rank(nodes: list, changed_lines: Callable[[dict[str, str]], int]) -> list[Ranked]:
    out = []
    for n in nodes:
        out.append(Ranked(node_id=n.id, touches_tests=any(is_test_file(p) for p in n.files),
                          tests_passed=n.observation.tests_passed, changed_lines=changed_lines(n.files), depth=n.depth,
                          code_size=code_size(n.files)))
    return sorted(out, key=Ranked.sort_key)


def choose(nodes: list, changed_lines: Callable[[dict[str, str]], int],
           rerun: Callable[[object], bool]) -> tuple[object | None, list[Ranked]]:
    """The best plausible node whose re-run (fresh, cold) passes again, and the full ranking."""
    ranking = rank(nodes, changed_lines)
    by_id = {n.id: n for n in nodes}
    for r in ranking:
        r.stable = rerun(by_id[r.node_id])
        if r.stable:
            return by_id[r.node_id], ranking
    return None, ranking
